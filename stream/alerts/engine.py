"""Apply scored articles to per-ticker monitors kept in Redis: load, update, compare-and-set."""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any, Callable

from stream.alerts.article import Article
from stream.alerts.config import AlertConfig
from stream.alerts.errors import StateConflict
from stream.alerts.monitor import TickerMonitor
from stream.alerts.silences import SilenceStore
from stream.alerts.store import StateStore

log = logging.getLogger(__name__)


class AlertEngine:
    """Processes batches of articles; returns the alerts it committed (each exactly once overall).

    A batch is grouped by ticker and each ticker costs one read and one scripted write, whatever
    the number of its articles. Articles whose id the ticker has already applied are skipped.
    """

    def __init__(self, redis: Any, config: AlertConfig, *, clock: Callable[[], float] = time.time,
                 max_conflicts: int = 20) -> None:
        self.config, self.clock, self.max_conflicts = config, clock, max_conflicts
        self.store = StateStore(redis, config)
        self.silences = SilenceStore(redis, config.key_prefix, config.silence_cache_s)
        self.applied = 0
        self.skipped = 0

    async def process(self, articles: list[Article]) -> list[dict[str, Any]]:
        by_ticker: dict[str, list[Article]] = defaultdict(list)
        for a in articles:
            by_ticker[a.ticker].append(a)
        alerts: list[dict[str, Any]] = []
        for ticker, items in by_ticker.items():
            alerts += await self._process_ticker(ticker, items)
        return alerts

    async def _process_ticker(self, ticker: str, items: list[Article]) -> list[dict[str, Any]]:
        ids = list(dict.fromkeys(a.id for a in items))
        for _ in range(self.max_conflicts):
            version, state, seen = await self.store.load(ticker, ids)
            mon = (TickerMonitor(ticker, self.config) if state is None
                   else TickerMonitor.from_state(ticker, self.config, state))
            now = self.clock()
            silences = await self.silences.active(now)
            applied: list[str] = []
            alerts: list[dict[str, Any]] = []
            for a in items:
                if a.id in seen:
                    continue
                seen.add(a.id)
                applied.append(a.id)
                alerts += mon.apply(a, silences=silences, now=now)
            if not applied:
                self.skipped += len(items)
                return []
            if await self.store.commit(ticker, version, mon.state_dict(), applied, alerts):
                self.applied += len(applied)
                self.skipped += len(items) - len(applied)
                return alerts
            log.info("alerts: state of %s changed under us (version %d); retrying", ticker, version)
        raise StateConflict(f"ticker {ticker}: expected to commit within {self.max_conflicts} attempts; "
                            "another writer kept changing its state")
