"""The shape every shift detector shares, and the slowly adapting baseline they build on.

A detector sees one number per article (a signed sentiment score, or a per-window news count) and
keeps a *condition*: ``active`` turns on when its statistic crosses the alarm limit and stays on,
with hysteresis, until the statistic falls back below a lower clear level. ``drift_detected`` is
true only on the update that switched the condition on (river's convention), and ``direction`` says
which way the level moved. State round-trips through ``state_dict()`` / ``from_state()`` as plain
JSON-able data so it can live in Redis between restarts.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

from stream.alerts.errors import AlertConfigError


@runtime_checkable
class Detector(Protocol):
    def update(self, x: float, weight: float = 1.0) -> Detector: ...
    @property
    def drift_detected(self) -> bool: ...
    @property
    def active(self) -> bool: ...
    @property
    def direction(self) -> int: ...
    def state_dict(self) -> dict[str, Any]: ...


def check_number(name: str, value: Any, *, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, hi_open: bool = False, integer: bool = False) -> float:
    """Validate one parameter; the message names the parameter, the expected range and what arrived."""
    kind = "an integer" if integer else "a number"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    if ok and integer:
        ok = float(value).is_integer()
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo
    if ok and hi is not None:
        ok = value < hi if hi_open else value <= hi
    if not ok:
        lo_s = "" if lo is None else f"{'(' if lo_open else '['}{lo}"
        hi_s = "" if hi is None else f"{hi}{')' if hi_open else ']'}"
        rng = f" in {lo_s or '(-inf'}, {hi_s or 'inf)'}" if (lo is not None or hi is not None) else ""
        raise AlertConfigError(f"{name}: expected {kind}{rng}, got {value!r}")
    return int(value) if integer else float(value)


def check_observation(x: float, weight: float) -> None:
    if not (isinstance(x, (int, float)) and math.isfinite(x)):
        raise ValueError(f"update: expected a finite number for x, got {x!r}")
    if not (isinstance(weight, (int, float)) and math.isfinite(weight) and weight >= 0):
        raise ValueError(f"update: expected a finite weight >= 0, got {weight!r}")


class Baseline:
    """In-control mean and variance: exact (weighted) for the first ``warmup`` observations, then
    exponentially weighted with rate ``alpha`` so that slow drifts become the new normal.

    After warm-up an observation only reaches the baseline ``lag`` updates later (a guard band):
    a fresh shift cannot leak into the baseline it is being compared with before a detector has
    had ``lag`` articles to see it.

    >>> b = Baseline(alpha=0.5, warmup=2, sigma_floor=0.1, lag=1)
    >>> _ = b.update(1.0).update(3.0)
    >>> b.ready, b.mean, b.var
    (True, 2.0, 1.0)
    >>> b.update(4.0).mean  # held back by the lag
    2.0
    >>> b.update(4.0).mean
    3.0
    """

    __slots__ = ("alpha", "warmup", "sigma_floor", "lag", "n", "w_sum", "mean", "var", "held")

    def __init__(self, alpha: float, warmup: int, sigma_floor: float, lag: int = 0) -> None:
        self.alpha, self.warmup, self.sigma_floor, self.lag = alpha, warmup, sigma_floor, lag
        self.n, self.w_sum, self.mean, self.var = 0, 0.0, 0.0, 0.0
        self.held: list[list[float]] = []

    @property
    def ready(self) -> bool:
        return self.n >= self.warmup

    @property
    def sigma(self) -> float:
        return max(math.sqrt(self.var), self.sigma_floor)

    def winsorize(self, x: float, clip: float) -> float:
        """Limit how far one observation can pull the statistics: to mean +- clip sigma."""
        lim = clip * self.sigma
        return min(max(x, self.mean - lim), self.mean + lim)

    def update(self, x: float, weight: float = 1.0, *, freeze_var: bool = False) -> Baseline:
        self.n += 1
        if self.n > self.warmup and self.lag:
            self.held.append([x, weight])
            if len(self.held) <= self.lag:
                return self
            x, weight = self.held.pop(0)
        if weight <= 0:
            return self
        delta = x - self.mean
        if self.n <= self.warmup:  # weighted Welford: exact mean and population variance
            self.w_sum += weight
            self.mean += weight / self.w_sum * delta
            self.var += (weight * delta * (x - self.mean) - weight * self.var) / self.w_sum
            return self
        # Until 1/alpha observations have arrived, average them all (rate 1/count): the early
        # baseline is then as good as the data allows instead of leaning on the short warm-up.
        self._step(x, weight, max(self.alpha, 1.0 / (self.n - len(self.held))), freeze_var)
        return self

    def repeat(self, x: float, k: int) -> bool:
        """``k`` calls of ``update(x)`` (weight 1) in time independent of ``k``, equal up to rounding; a
        volume rule sees a run of empty windows after every quiet spell. Only once the baseline runs at its
        final rate ``alpha`` with a full guard band; returns False, changing nothing, before that.

        With rate ``a``, ``D = mean - x`` and ``r = (1 - a) ** m``, ``m`` updates by ``x`` give
        ``mean = x + D r`` and ``var = r (var + D**2 (1 - r))`` (the sum of the geometric series).

        >>> b, c = Baseline(0.1, 5, 0.1, lag=2), Baseline(0.1, 5, 0.1, lag=2)
        >>> for v in [3.0, 1.0, 2.0, 4.0, 2.0] * 4:
        ...     _ = b.update(v), c.update(v)
        >>> for _ in range(50):
        ...     _ = b.update(0.0)
        >>> c.repeat(0.0, 50), round(b.mean - c.mean, 12), round(b.var - c.var, 12), b.held == c.held
        (True, 0.0, 0.0, True)
        """
        if k <= 0 or self.n < self.warmup or len(self.held) != self.lag or \
                1.0 / (self.n + 1 - self.lag) > self.alpha:
            return False
        a = self.alpha
        pushed = [[float(x), 1.0]] * min(k, self.lag)
        for v, w in self.held[:k]:  # the guard band drains first, in order
            self._step(v, w, a)
        self.held = (self.held[k:] + pushed)[-self.lag:] if self.lag else []
        m = k - min(k, self.lag)  # then the values of this run reach the baseline
        if m:
            d, r = self.mean - x, (1.0 - a) ** m
            self.mean = x + d * r
            self.var = r * (self.var + d * d * (1.0 - r))
        self.n += k
        return True

    def _step(self, x: float, weight: float, rate: float, freeze_var: bool = False) -> None:
        """One exponentially weighted update (after warm-up) at ``rate`` per unit of weight."""
        if weight <= 0:
            return
        a = 1.0 - (1.0 - rate) ** weight
        delta = x - self.mean
        self.mean += a * delta
        if not freeze_var:
            self.var = (1.0 - a) * (self.var + a * delta * delta)

    def state_dict(self) -> dict[str, float]:
        return {"n": self.n, "w_sum": self.w_sum, "mean": self.mean, "var": self.var, "held": self.held}

    def load(self, state: dict[str, float]) -> Baseline:
        self.n, self.w_sum = int(state["n"]), float(state["w_sum"])
        self.mean, self.var = float(state["mean"]), float(state["var"])
        self.held = [[float(x), float(w)] for x, w in state.get("held", [])]
        return self


class ShiftDetector:
    """Common plumbing: parameters, the alarm condition, and JSON state round-trips.

    Subclasses declare ``PARAMS`` (constructor arguments) and ``STATE`` (mutable attributes besides
    the baseline) and implement ``update``.
    """

    PARAMS: ClassVar[tuple[str, ...]] = ()
    STATE: ClassVar[tuple[str, ...]] = ()
    baseline: Baseline

    def __init__(self) -> None:
        self._drift = False
        self._active = False
        self._direction = 0
        self.n = 0
        self.statistic = 0.0
        self.calm = 0

    @property
    def drift_detected(self) -> bool:
        """True only on the update that raised the alarm."""
        return self._drift

    @property
    def active(self) -> bool:
        """The alarm condition, held with hysteresis until the statistic falls below ``clear``."""
        return self._active

    @property
    def direction(self) -> int:
        """+1 when the level moved up, -1 when it moved down, 0 when no alarm is active."""
        return self._direction

    @property
    def params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.PARAMS}

    def state_dict(self) -> dict[str, Any]:
        state = {name: getattr(self, name) for name in self.STATE}
        state.update(n=self.n, statistic=self.statistic, calm=self.calm, active=self._active, direction=self._direction,
                     baseline=self.baseline.state_dict())
        return {"kind": type(self).__name__, "params": self.params, "state": state}

    @classmethod
    def from_state(cls, saved: dict[str, Any], **params: Any) -> Self:
        """Rebuild a detector; ``params`` (e.g. from a changed config) override the saved ones."""
        if saved.get("kind") != cls.__name__:
            raise AlertConfigError(f"from_state: expected state of a {cls.__name__}, got {saved.get('kind')!r}")
        det = cls(**{**saved["params"], **params})
        state = dict(saved["state"])
        det.baseline.load(state.pop("baseline"))
        det.n, det.statistic = int(state.pop("n")), float(state.pop("statistic"))
        det.calm = int(state.pop("calm", 0))
        det._active, det._direction = bool(state.pop("active")), int(state.pop("direction"))
        for name in cls.STATE:
            setattr(det, name, state[name])
        return det

    def _raise(self, direction: int) -> None:
        self._drift, self._active, self._direction = True, True, direction

    def _clear(self) -> None:
        self._active, self._direction = False, 0

    def _settle(self, below_clear: bool) -> bool:
        """Count consecutive updates below the clear level; True (alarm over) after ``cool`` of them."""
        self.calm = self.calm + 1 if below_clear else 0
        if self.calm >= self.cool:
            self.calm = 0
            self._clear()
            return True
        return False

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"
