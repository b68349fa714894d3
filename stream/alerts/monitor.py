"""One ticker's detectors, lifecycles and evidence: article in, due notifications out (pure)."""
from __future__ import annotations

from typing import Any

from stream.alerts.article import Article
from stream.alerts.config import AlertConfig
from stream.alerts.detectors import ShiftDetector, WindowCounter
from stream.alerts.evidence import Evidence
from stream.alerts.lifecycle import INACTIVE, Lifecycle
from stream.alerts.payload import build_alert
from stream.alerts.silences import Silence, is_silenced

SCORE_RULES = ("ewma", "cusum")


class TickerMonitor:
    """Feeds each article to the score rules and its arrival time to the volume rule.

    Everything here is deterministic given the articles, the silences and ``now`` (wall-clock time,
    used only for silences and ``emitted_at``); rule timing runs on event time, so a replay raises
    the same alerts as the live stream did.
    """

    def __init__(self, ticker: str, config: AlertConfig) -> None:
        self.ticker, self.config = ticker, config
        self.detectors: dict[str, ShiftDetector] = config.detectors()
        self.lifecycles = {name: Lifecycle() for name in self.detectors}
        self.counter = WindowCounter(config.volume.window_s)
        self.evidence = Evidence(config.evidence_size)
        self.n = 0
        self.model_version = ""

    def apply(self, article: Article, *, silences: list[Silence] = (), now: float) -> list[dict[str, Any]]:
        self.n += 1
        self.model_version = article.model_version or self.model_version
        weight = article.confidence if self.config.weighting == "confidence" else 1.0
        open_start = self._window_start()
        self.evidence.add_article(article, weight)
        alerts = []
        for rule in SCORE_RULES:
            if rule in self.detectors:
                self.detectors[rule].update(article.score, weight)
                alerts += self._step(rule, article.ts, silences, now)
        if "volume" in self.detectors:
            closed = self.counter.observe(article.ts)  # the window that ended, then any empty ones
            i = 0
            while i < len(closed):
                if i == 1 and len(closed) > 2 and self._skip_empty(len(closed) - 2):
                    i = len(closed) - 1  # a quiet spell, fast-forwarded; its last window still goes through
                self.detectors["volume"].update(float(closed[i]))
                alerts += self._step("volume", article.ts, silences, now, closed[i] if i == 0 else 0, open_start)
                i += 1
        return alerts

    def _skip_empty(self, k: int) -> bool:
        """Take ``k`` empty windows in one step when nothing can happen in them: no alarm, and no pending
        or firing alert (``VolumeDetector.skip_empty``)."""
        lifecycle = self.lifecycles["volume"]
        if lifecycle.state == INACTIVE and self.detectors["volume"].skip_empty(k):
            lifecycle.n += k  # what k inactive steps do to it
            return True
        return False

    def _window_start(self) -> float | None:
        idx = self.counter.index
        return None if idx is None else idx * self.counter.window_s

    def _step(self, rule: str, ts: float, silences: list[Silence], now: float, count: int | None = None,
              window_start: float | None = None) -> list[dict[str, Any]]:
        det, timing = self.detectors[rule], getattr(self.config, rule).timing
        notice = self.lifecycles[rule].step(det.active, det.direction, ts, timing,
                                            is_silenced(silences, self.ticker, rule, now))
        if notice is None:
            return []
        items = None
        if window_start is not None and count:
            items = self.evidence.since(window_start, window_start + self.counter.window_s)
        return [build_alert(ticker=self.ticker, rule=rule, notice=notice, detector=det, evidence=self.evidence,
                            model_version=self.model_version, article_count=self.n, emitted_at=now,
                            top_k=self.config.top_headlines, window_items=items, window_count=count)]

    def state_dict(self) -> dict[str, Any]:
        return {"n": self.n, "model_version": self.model_version,
                "detectors": {k: d.state_dict() for k, d in self.detectors.items()},
                "lifecycles": {k: lc.state_dict() for k, lc in self.lifecycles.items()},
                "counter": self.counter.state_dict(), "evidence": self.evidence.items}

    @classmethod
    def from_state(cls, ticker: str, config: AlertConfig, state: dict[str, Any]) -> TickerMonitor:
        """Restore saved state; rules added to the config since start fresh, removed ones are dropped,
        and current config parameters win over saved ones."""
        mon = cls(ticker, config)
        mon.n, mon.model_version = int(state["n"]), state.get("model_version", "")
        for name, det in mon.detectors.items():
            saved = state["detectors"].get(name)
            if saved is not None:
                mon.detectors[name] = type(det).from_state(saved, **det.params)
            if name in state["lifecycles"]:
                mon.lifecycles[name] = Lifecycle.from_state(state["lifecycles"][name])
        mon.counter.load(state["counter"])
        mon.evidence = Evidence(config.evidence_size, state["evidence"])
        return mon
