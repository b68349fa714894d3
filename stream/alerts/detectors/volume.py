"""News-volume rule: articles per time window against the ticker's usual count."""
from __future__ import annotations

import math

from stream.alerts.detectors.base import Baseline, ShiftDetector, check_number, check_observation
from stream.alerts.errors import AlertConfigError


class VolumeDetector(ShiftDetector):
    """Alarm when one window's article count is ``limit`` sigma above the usual count.

    ``update(count)`` takes the count of one closed window (see ``WindowCounter``). The baseline
    count adapts with rate ``alpha``; sigma is the larger of the observed spread and the Poisson
    spread ``sqrt(mean)`` (news is bursty, so a Poisson-only sigma would alarm too often), floored at
    ``sigma_floor``. A window must also hold at least ``min_count`` articles to alarm, so a quiet
    ticker's handful of stories never fires. The alarm ends after ``cool`` consecutive windows back
    below ``clear`` sigma, so one quieter window inside a surge does not split it into two alerts.
    ``two_sided`` adds droughts (direction -1).

    >>> vol = VolumeDetector(limit=4.0, clear=1.0, min_windows=4, min_count=5, cool=1)
    >>> counts = [2, 1, 2, 1, 2, 1, 9, 12, 2]
    >>> [i for i, c in enumerate(counts) if vol.update(c).drift_detected]
    [6]
    >>> vol.active
    False
    """

    PARAMS = ("alpha", "limit", "clear", "min_windows", "min_count", "cool", "lag", "clip", "sigma_floor", "two_sided")
    STATE = ()

    def __init__(self, alpha: float = 0.01, limit: float = 5.5, clear: float = 1.0, min_windows: int = 24,
                 min_count: int = 6, cool: int = 3, lag: int = 6, clip: float = 4.0, sigma_floor: float = 1.0, two_sided: bool = False) -> None:
        super().__init__()
        self.alpha = check_number("volume.alpha", alpha, lo=0, hi=1, lo_open=True, hi_open=True)
        self.limit = check_number("volume.limit", limit, lo=0, lo_open=True)
        self.clear = check_number("volume.clear", clear, lo=0)
        if self.clear >= self.limit:
            raise AlertConfigError(f"volume.clear: expected a value below limit={self.limit}, got {clear!r}")
        self.min_windows = check_number("volume.min_windows", min_windows, lo=2, integer=True)
        self.min_count = check_number("volume.min_count", min_count, lo=1, integer=True)
        self.cool = check_number("volume.cool", cool, lo=1, integer=True)
        self.lag = check_number("volume.lag", lag, lo=0, integer=True)
        self.clip = check_number("volume.clip", clip, lo=0, lo_open=True)
        self.sigma_floor = check_number("volume.sigma_floor", sigma_floor, lo=0, lo_open=True)
        if not isinstance(two_sided, bool):
            raise AlertConfigError(f"volume.two_sided: expected true or false, got {two_sided!r}")
        self.two_sided = two_sided
        self.baseline = Baseline(self.alpha, self.min_windows, self.sigma_floor, self.lag)

    @property
    def sigma(self) -> float:
        b = self.baseline
        return max(math.sqrt(max(b.var, b.mean)), self.sigma_floor)

    @property
    def window(self) -> int:
        return 1

    def update(self, x: float, weight: float = 1.0) -> VolumeDetector:
        check_observation(x, weight)
        self._drift = False
        self.n += 1
        b = self.baseline
        if not b.ready:
            b.update(x)
            return self
        d = (x - b.mean) / self.sigma
        self.statistic = d
        if self._active:
            self._settle(d * self._direction < self.clear)
        elif d > self.limit and x >= self.min_count:
            self._raise(1)
        elif self.two_sided and d < -self.limit:
            self._raise(-1)
        lim = self.clip * self.sigma
        b.update(min(max(x, b.mean - lim), b.mean + lim), freeze_var=self._active)
        return self

    def skip_empty(self, k: int) -> bool:
        """The same as ``k`` calls of ``update(0)`` when none of them can change the alarm condition: no
        alarm active, no drought alarm (``two_sided`` off) and no clipping of a zero (a baseline of at most
        ``clip**2`` articles per window, as the Poisson part of sigma keeps ``mean - clip * sigma`` below 0).
        Returns False, changing nothing, when the exact path is needed. The statistic is left as it was; the
        caller feeds the run's last window through ``update``.
        """
        b = self.baseline
        if self._active or self.two_sided or not b.ready or \
                max([b.mean] + [v for v, _ in b.held]) > self.clip ** 2:
            return False
        if not b.repeat(0.0, k):
            return False
        self.n += k
        self._drift = False
        return True


class WindowCounter:
    """Tumbling windows of ``window_s`` seconds over event time; yields counts of closed windows.

    Empty windows between two articles count as zeros (at most ``max_gap`` of them, so a ticker that
    was silent for a month does not replay thousands of windows).

    >>> wc = WindowCounter(window_s=60)
    >>> [wc.observe(t) for t in (0, 10, 59, 61, 200)]
    [[], [], [], [3], [1, 0]]
    """

    __slots__ = ("window_s", "max_gap", "index", "count")

    def __init__(self, window_s: float = 300.0, max_gap: int = 288) -> None:
        self.window_s = check_number("volume.window_s", window_s, lo=0, lo_open=True)
        self.max_gap = check_number("volume.max_gap", max_gap, lo=0, integer=True)
        self.index: int | None = None
        self.count = 0

    def observe(self, ts: float) -> list[int]:
        idx = math.floor(ts / self.window_s)
        if self.index is None:
            self.index, self.count = idx, 1
            return []
        if idx <= self.index:  # same window, or a late article: count it in the open window
            self.count += 1
            return []
        closed = [self.count] + [0] * min(idx - self.index - 1, self.max_gap)
        self.index, self.count = idx, 1
        return closed

    def state_dict(self) -> dict:
        return {"index": self.index, "count": self.count}

    def load(self, state: dict) -> WindowCounter:
        self.index, self.count = state["index"], int(state["count"])
        return self
