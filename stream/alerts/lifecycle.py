"""Alert lifecycle per (ticker, rule), after Prometheus Alertmanager: pending -> firing -> resolved.

The lifecycle is a pure state machine over event time. It decides *which notifications are due*;
storing them atomically (so that only one worker emits each) is the job of ``store``.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Literal

INACTIVE, PENDING, FIRING = "inactive", "pending", "firing"
Kind = Literal["firing", "repeat", "resolved"]


def fingerprint(ticker: str, rule: str, direction: int) -> str:
    """Stable id of an alert series: the same ticker, rule and direction always hash alike.

    >>> fingerprint("AAPL", "ewma", -1)
    'e4601dd096cf6deb'
    """
    raw = f"{ticker}\x1f{rule}\x1f{'up' if direction > 0 else 'down'}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Timing:
    """``for`` period (both thresholds must pass; 0 disables one), repeat interval (0: never) and
    ``keep_firing_for``: articles a firing alert stays firing after its condition cleared (Prometheus's
    ``keep_firing_for``); a condition that returns within them continues the same episode instead of
    resolving and firing anew (0: resolve on the first clear article)."""

    for_articles: int = 2
    for_seconds: float = 0.0
    repeat_interval_s: float = 0.0
    keep_firing_for: int = 0


@dataclass(frozen=True)
class Notice:
    """A notification that is due: what happened, and the episode it belongs to."""

    kind: Kind
    direction: int
    since_ts: float
    fired_ts: float
    ts: float
    sequence: int


@dataclass
class Lifecycle:
    """One rule's alert for one ticker. ``step`` returns the notification kind that is due, if any.

    Silenced alerts move through the same states but send no firing or repeat notice; if a silence
    ends while the alert still fires, the firing notice goes out then. A resolve notice is sent for
    every alert whose firing was notified, silenced or not: it closes the episode for receivers and
    removes the alert from the active set, which would otherwise show it firing forever.

    >>> lc = Lifecycle()
    >>> t = Timing(for_articles=1)
    >>> notices = [lc.step(active, 1, float(i), t) for i, active in enumerate([True, True, True, False])]
    >>> [n and n.kind for n in notices]
    [None, 'firing', None, 'resolved']
    >>> notices[3].since_ts, notices[3].fired_ts
    (0.0, 1.0)

    With ``keep_firing_for=2`` a condition that clears for one article and returns stays one episode;
    it resolves once it has been clear for two articles:

    >>> lc, t = Lifecycle(), Timing(for_articles=1, keep_firing_for=2)
    >>> [n and n.kind for n in (lc.step(a, 1, float(i), t) for i, a in enumerate([1, 1, 0, 1, 0, 0, 0]))]
    [None, 'firing', None, None, None, None, 'resolved']
    """

    state: str = INACTIVE
    direction: int = 0
    since_ts: float = 0.0        # when the condition first held (episode start)
    since_n: int = 0             # articles seen by this lifecycle at that moment
    fired_ts: float = 0.0
    last_sent_ts: float = 0.0
    notified: bool = False
    n: int = 0
    sequence: int = 0            # notifications sent in this episode
    clear_n: int = -1            # while firing: articles seen when the condition last cleared (-1: it holds)

    def step(self, active: bool, direction: int, ts: float, timing: Timing, silenced: bool = False) -> Notice | None:
        self.n += 1
        if self.state == FIRING and not active and timing.keep_firing_for:
            if self.clear_n < 0:
                self.clear_n = self.n
            if self.n - self.clear_n < timing.keep_firing_for:
                return None  # cleared, but not for long enough: still firing, nothing to send
        elif active:
            self.clear_n = -1
        if self.state != INACTIVE and (not active or direction != self.direction):
            notice = None
            if self.state == FIRING and self.notified:
                notice = self._sent("resolved", ts)
            self.state, self.direction, self.notified, self.clear_n = INACTIVE, 0, False, -1
            if active:  # the direction flipped: the old alert resolves, a new one starts pending
                self._start(direction, ts, timing)
            return notice
        if self.state == INACTIVE:
            if not active:
                return None
            self._start(direction, ts, timing)
            if self.state != FIRING:
                return None
        elif self.state == PENDING:
            if not self._due(ts, timing):
                return None
            self.state, self.fired_ts = FIRING, ts
        # firing: first notice (possibly delayed by a silence), or a repeat
        if silenced:
            return None
        if not self.notified:
            self.notified = True
            return self._sent("firing", ts)
        if timing.repeat_interval_s and ts - self.last_sent_ts >= timing.repeat_interval_s:
            return self._sent("repeat", ts)
        return None

    def _start(self, direction: int, ts: float, timing: Timing) -> None:
        self.state, self.direction, self.since_ts, self.since_n = PENDING, direction, ts, self.n
        self.notified, self.sequence = False, 0
        if self._due(ts, timing):
            self.state, self.fired_ts = FIRING, ts

    def _due(self, ts: float, timing: Timing) -> bool:
        return self.n - self.since_n >= timing.for_articles and ts - self.since_ts >= timing.for_seconds

    def _sent(self, kind: Kind, ts: float) -> Notice:
        self.last_sent_ts = ts
        self.sequence += 1
        return Notice(kind, self.direction, self.since_ts, self.fired_ts, ts, self.sequence)

    def state_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict) -> Lifecycle:
        return cls(**state)
