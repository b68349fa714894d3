"""EWMA control chart on signed sentiment scores."""
from __future__ import annotations

import math

from stream.alerts.detectors.base import Baseline, ShiftDetector, check_number, check_observation
from stream.alerts.errors import AlertConfigError


class EWMAChart(ShiftDetector):
    """Alarm when the exponentially smoothed score leaves the baseline by ``limit`` sigma.

    The chart statistic is ``z <- z + l_w (x - z)`` with ``l_w = 1 - (1 - lam) ** weight`` (a weight
    of 1 is one full article, a confidence of 0.5 counts as half of one). Its in-control standard
    deviation is ``sigma * sqrt(lam / (2 - lam))`` where ``sigma`` is the baseline's. Guard rails:

    * nothing fires during the first ``min_articles`` (they only estimate the baseline);
    * the baseline then adapts with rate ``alpha`` (slowly: a persistent shift is absorbed after
      about ``ln(limit / clear) / alpha`` articles, which ends the alarm);
    * each observation is winsorized to ``baseline +- clip sigma``, so no single headline can move
      the chart far (with the defaults at least six articles in a row are needed to cross the limit);
    * hysteresis: the alarm holds until the statistic stays below ``clear`` sigma for ``cool``
      articles in a row (a few contrary headlines inside a shifted regime do not end it), then the
      chart restarts from the baseline (reset after alarm), so a new alarm needs fresh evidence.

    >>> chart = EWMAChart(lam=0.5, limit=3.0, clear=1.0, cool=1, alpha=0.01, min_articles=5, sigma_floor=0.1)
    >>> stream = [0.0] * 10 + [1.0] * 5
    >>> [i for i, x in enumerate(stream) if chart.update(x).drift_detected]
    [12]
    >>> chart.active, chart.direction
    (True, 1)
    """

    PARAMS = ("lam", "limit", "clear", "cool", "alpha", "min_articles", "lag", "clip", "sigma_floor")
    STATE = ("z",)

    def __init__(self, lam: float = 0.1, limit: float = 4.0, clear: float = 1.0, cool: int = 10, alpha: float = 0.005,
                 min_articles: int = 50, lag: int = 50, clip: float = 2.0, sigma_floor: float = 0.05) -> None:
        super().__init__()
        self.lam = check_number("ewma.lam", lam, lo=0, hi=1, lo_open=True)
        self.limit = check_number("ewma.limit", limit, lo=0, lo_open=True)
        self.clear = check_number("ewma.clear", clear, lo=0)
        if self.clear >= self.limit:
            raise AlertConfigError(f"ewma.clear: expected a value below limit={self.limit}, got {clear!r}")
        self.cool = check_number("ewma.cool", cool, lo=1, integer=True)
        self.alpha = check_number("ewma.alpha", alpha, lo=0, hi=1, lo_open=True, hi_open=True)
        self.min_articles = check_number("ewma.min_articles", min_articles, lo=2, integer=True)
        self.lag = check_number("ewma.lag", lag, lo=0, integer=True)
        self.clip = check_number("ewma.clip", clip, lo=0, lo_open=True)
        self.sigma_floor = check_number("ewma.sigma_floor", sigma_floor, lo=0, lo_open=True)
        self.baseline = Baseline(self.alpha, self.min_articles, self.sigma_floor, self.lag)
        self.z = 0.0
        self._scale = math.sqrt(self.lam / (2.0 - self.lam))

    @property
    def window(self) -> int:
        """Articles the statistic mostly reflects (the EWMA's equivalent moving-average length)."""
        return max(1, round((2.0 - self.lam) / self.lam))

    def update(self, x: float, weight: float = 1.0) -> EWMAChart:
        check_observation(x, weight)
        self._drift = False
        self.n += 1
        b = self.baseline
        if not b.ready:
            b.update(x, weight)
            self.z = b.mean
            return self
        xc = b.winsorize(x, self.clip)
        self.z += (1.0 - (1.0 - self.lam) ** weight) * (xc - self.z)
        d = (self.z - b.mean) / (b.sigma * self._scale)
        self.statistic = d
        if self._active:
            if self._settle(d * self._direction < self.clear):
                self.z = b.mean
        elif abs(d) > self.limit:
            self._raise(1 if d > 0 else -1)
        b.update(xc, weight, freeze_var=self._active)
        return self
