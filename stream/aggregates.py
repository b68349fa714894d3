"""Per-ticker rolling aggregates and EWMA: the maths of the Redis script (``sinks/redis_script.py``) in Python.

Both are event-time and commutative, so the state after a set of items does not depend on the order in which
workers happened to process them (up to float rounding), and a redelivered item is excluded before it gets
here (idempotency lives in the sinks).

* Rolling window: fixed buckets of ``bucket_ms``; the window is the ``buckets`` buckets ending at the bucket of
  the ticker's newest event. Running sums are kept so each update is O(1) amortised; buckets that fall out of
  the window are subtracted and dropped; items older than the window are ignored.
* EWMA: the time-decayed mean ``sum(x_i * d_i) / sum(d_i)`` with ``d_i = exp(-(t_max - t_i) / tau)`` and
  ``tau = halflife / ln 2``. An item at the newest time weighs 1; one ``halflife`` older weighs 1/2.

>>> from stream.windows import Window
>>> w, state = Window("1m", 60_000, 6), WindowState()
>>> for ts, score, sign in [(0, 0.5, 1), (25_000, -1.0, -1), (70_000, 1.0, 1)]:
...     state.add(w, ts, score, sign)
>>> state.snapshot()  # the item at 0 s left the window when the one at 70 s arrived
{'count': 2, 'mean': 0.0, 'pos_share': 0.5, 'neg_share': 0.5}
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .windows import Window

LN2 = math.log(2)


def label_sign(label: str) -> int:
    """+1 for positive, -1 for negative, 0 otherwise (shares count labels, not score signs)."""
    return 1 if label == "positive" else -1 if label == "negative" else 0


@dataclass
class WindowState:
    head: int | None = None  # index of the newest bucket
    n: int = 0
    total: float = 0.0
    pos: int = 0
    neg: int = 0
    buckets: dict[int, list] = field(default_factory=dict)  # index -> [n, total, pos, neg]

    def add(self, window: Window, ts_ms: int, score: float, sign: int) -> None:
        idx = ts_ms // window.bucket_ms
        if self.head is None:
            self.head = idx
        elif idx > self.head:
            self._advance(window, idx)
        if idx <= self.head - window.buckets:
            return  # older than the window: it would already have expired
        bucket = self.buckets.setdefault(idx, [0, 0.0, 0, 0])
        bucket[0] += 1
        bucket[1] += score
        bucket[2] += sign > 0
        bucket[3] += sign < 0
        self.n += 1
        self.total += score
        self.pos += sign > 0
        self.neg += sign < 0

    def _advance(self, window: Window, idx: int) -> None:
        assert self.head is not None
        first = self.head - window.buckets + 1  # oldest bucket in the current window
        last = min(idx - window.buckets, self.head)  # newest bucket that expires
        for i in range(first, last + 1):
            bucket = self.buckets.pop(i, None)
            if bucket:
                self.n -= bucket[0]
                self.total -= bucket[1]
                self.pos -= bucket[2]
                self.neg -= bucket[3]
        if self.n == 0:
            self.total = 0.0  # no float residue in an empty window
        self.head = idx

    def snapshot(self) -> dict:
        n = self.n
        return {"count": n, "mean": self.total / n if n else 0.0,
                "pos_share": self.pos / n if n else 0.0, "neg_share": self.neg / n if n else 0.0}


@dataclass
class Ewma:
    tau_ms: float
    s: float = 0.0
    w: float = 0.0
    t: int | None = None  # newest event time seen

    @classmethod
    def with_halflife(cls, halflife_s: float) -> "Ewma":
        return cls(tau_ms=halflife_s * 1000 / LN2)

    def add(self, ts_ms: int, x: float) -> None:
        if self.t is None:
            self.s, self.w, self.t = x, 1.0, ts_ms
        elif ts_ms >= self.t:
            decay = math.exp(-(ts_ms - self.t) / self.tau_ms)
            self.s, self.w, self.t = self.s * decay + x, self.w * decay + 1.0, ts_ms
        else:
            weight = math.exp(-(self.t - ts_ms) / self.tau_ms)
            self.s += x * weight
            self.w += weight

    @property
    def value(self) -> float:
        return self.s / self.w if self.w else 0.0


@dataclass
class TickerAggregate:
    """All aggregates of one ticker; ``snapshot()`` has the fields of the Redis hash ``fs:tk:{T}:agg``."""

    windows: tuple[Window, ...]
    ewma: Ewma
    states: dict[str, WindowState] = field(default_factory=dict)

    def add(self, ts_ms: int, score: float, label: str) -> None:
        sign = label_sign(label)
        for window in self.windows:
            self.states.setdefault(window.name, WindowState()).add(window, ts_ms, score, sign)
        self.ewma.add(ts_ms, score)

    def snapshot(self) -> dict:
        out: dict = {}
        for window in self.windows:
            for key, value in self.states.get(window.name, WindowState()).snapshot().items():
                out[f"{window.name}:{key}"] = value
        out["ewma"] = self.ewma.value
        out["last_ts"] = self.ewma.t
        return out
