"""Apply scored articles to per-ticker monitors kept in Redis: load, update, compare-and-set."""
from __future__ import annotations

import asyncio
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
YIELD_AFTER_S = 0.005  # longest run of CPU before the rest of the worker gets the event loop


class AlertEngine:
    """Processes batches of articles; returns the alerts it committed (each exactly once overall).

    A batch is grouped by ticker; all tickers' states are read in one round trip and written in another
    (a compare-and-set script per ticker), whatever the number of tickers and articles. Articles whose id
    the ticker has already applied are skipped; a ticker whose state changed under us is re-read and
    re-applied on its own.
    """

    def __init__(self, redis: Any, config: AlertConfig, *, clock: Callable[[], float] = time.time,
                 max_conflicts: int = 20) -> None:
        self.config, self.clock, self.max_conflicts = config, clock, max_conflicts
        self.store = StateStore(redis, config)
        self.silences = SilenceStore(redis, config.key_prefix, config.silence_cache_s)
        self.applied = 0
        self.skipped = 0

    async def process(self, articles: list[Article]) -> list[dict[str, Any]]:
        pending: dict[str, list[Article]] = defaultdict(list)
        for a in articles:
            pending[a.ticker].append(a)
        alerts: list[dict[str, Any]] = []
        for _ in range(self.max_conflicts):
            loaded = await self.store.load({t: list(dict.fromkeys(a.id for a in items))
                                            for t, items in pending.items()})
            now = self.clock()
            silences = await self.silences.active(now)
            changes, counts = {}, {}
            ran = time.perf_counter()
            for ticker, items in pending.items():
                version, state, seen = loaded[ticker]
                mon = (TickerMonitor(ticker, self.config) if state is None
                       else TickerMonitor.from_state(ticker, self.config, state))
                applied: list[str] = []
                raised: list[dict[str, Any]] = []
                for a in items:
                    if time.perf_counter() - ran > YIELD_AFTER_S:  # let the scoring agent, heartbeats and
                        await asyncio.sleep(0)                     # /metrics in: a pass can be 100 ms of CPU
                        ran = time.perf_counter()
                    if a.id in seen:
                        continue
                    seen.add(a.id)
                    applied.append(a.id)
                    raised += mon.apply(a, silences=silences, now=now)
                if applied:
                    changes[ticker] = (version, mon.state_dict(), applied, raised)
                    counts[ticker] = (len(applied), len(items) - len(applied))
                else:
                    self.skipped += len(items)
            committed = await self.store.commit(changes) if changes else {}
            for ticker, ok in committed.items():
                if ok:
                    alerts += changes[ticker][3]
                    self.applied += counts[ticker][0]
                    self.skipped += counts[ticker][1]
                else:
                    log.info("alerts: state of %s changed under us (version %d); retrying", ticker,
                             changes[ticker][0])
            pending = {t: pending[t] for t, ok in committed.items() if not ok}
            if not pending:
                return alerts
        raise StateConflict(f"tickers {sorted(pending)}: expected to commit within {self.max_conflicts} "
                            "attempts; another writer kept changing their state")
