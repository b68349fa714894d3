"""Two-sided CUSUM on standardised sentiment scores."""
from __future__ import annotations

from stream.alerts.detectors.base import Baseline, ShiftDetector, check_number, check_observation
from stream.alerts.errors import AlertConfigError


class CUSUM(ShiftDetector):
    """Page's two-sided CUSUM: accumulate standardised deviations beyond an allowance ``k``.

    With ``u = (x - mean) / sigma`` against the baseline, ``S+ <- max(0, S+ + w (u - k))`` and
    ``S- <- max(0, S- - w (u + k))``; the alarm fires when either sum exceeds ``h``. ``k`` is half
    the shift (in sigma) the chart is tuned to find fastest. While the alarm holds, the sum is capped
    at ``h`` so that the episode ends within ``(h - clear) / k`` articles of the level returning to
    the (slowly adapting) baseline; once it has stayed below ``clear`` for ``cool`` articles both
    sums restart at zero.
    ``run_length`` counts the articles since the alarming sum last left zero (the change point), and
    ``shift`` estimates the size of the shift in sigma from them.

    >>> cusum = CUSUM(k=0.5, h=4.0, clear=1.0, cool=1, alpha=0.01, min_articles=5, sigma_floor=0.1)
    >>> stream = [0.0] * 10 + [-0.3] * 5
    >>> [i for i, x in enumerate(stream) if cusum.update(x).drift_detected]
    [11]
    >>> cusum.direction, cusum.run_length
    (-1, 5)
    """

    PARAMS = ("k", "h", "clear", "cool", "alpha", "min_articles", "lag", "clip", "sigma_floor")
    STATE = ("s_pos", "s_neg", "run_pos", "run_neg")

    def __init__(self, k: float = 0.5, h: float = 10.0, clear: float = 2.0, cool: int = 5, alpha: float = 0.005,
                 min_articles: int = 50, lag: int = 50, clip: float = 3.0, sigma_floor: float = 0.05) -> None:
        super().__init__()
        self.k = check_number("cusum.k", k, lo=0)
        self.h = check_number("cusum.h", h, lo=0, lo_open=True)
        self.clear = check_number("cusum.clear", clear, lo=0)
        if self.clear >= self.h:
            raise AlertConfigError(f"cusum.clear: expected a value below h={self.h}, got {clear!r}")
        self.cool = check_number("cusum.cool", cool, lo=1, integer=True)
        self.alpha = check_number("cusum.alpha", alpha, lo=0, hi=1, lo_open=True, hi_open=True)
        self.min_articles = check_number("cusum.min_articles", min_articles, lo=2, integer=True)
        self.lag = check_number("cusum.lag", lag, lo=0, integer=True)
        self.clip = check_number("cusum.clip", clip, lo=0, lo_open=True)
        self.sigma_floor = check_number("cusum.sigma_floor", sigma_floor, lo=0, lo_open=True)
        self.baseline = Baseline(self.alpha, self.min_articles, self.sigma_floor, self.lag)
        self.s_pos = self.s_neg = 0.0
        self.run_pos = self.run_neg = 0

    @property
    def run_length(self) -> int:
        return self.run_neg if self._direction < 0 else self.run_pos

    @property
    def window(self) -> int:
        return max(1, self.run_length)

    @property
    def shift(self) -> float:
        """Estimated signed shift in baseline sigma over the current run (0 without an alarm)."""
        if not self._direction or not self.run_length:
            return 0.0
        s = self.s_pos if self._direction > 0 else self.s_neg
        return self._direction * (s / self.run_length + self.k)

    def update(self, x: float, weight: float = 1.0) -> CUSUM:
        check_observation(x, weight)
        self._drift = False
        self.n += 1
        b = self.baseline
        if not b.ready:
            b.update(x, weight)
            return self
        xc = b.winsorize(x, self.clip)
        u = (xc - b.mean) / b.sigma
        self.s_pos = max(0.0, self.s_pos + weight * (u - self.k))
        self.s_neg = max(0.0, self.s_neg - weight * (u + self.k))
        self.run_pos = self.run_pos + 1 if self.s_pos > 0 else 0
        self.run_neg = self.run_neg + 1 if self.s_neg > 0 else 0
        if self._active:
            s = min(self.s_pos if self._direction > 0 else self.s_neg, self.h)
            if self._direction > 0:
                self.s_pos = s
            else:
                self.s_neg = s
            if self._settle(s < self.clear):
                self.s_pos = self.s_neg = 0.0
                self.run_pos = self.run_neg = 0
        elif max(self.s_pos, self.s_neg) > self.h:
            self._raise(1 if self.s_pos >= self.s_neg else -1)
        self.statistic = self.s_pos if self.s_pos >= self.s_neg else -self.s_neg
        b.update(xc, weight, freeze_var=self._active)
        return self
