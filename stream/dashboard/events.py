"""Live updates as server-sent events: ``tickers`` (when anything changed), ``alert`` (each new notification in
the alert stream, in order) and ``health`` (every few refreshes). One loop per connected page; all reads are
cheap (one pipeline per refresh), so any number of pages can follow the same Redis."""
from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import AsyncIterator, Awaitable, Callable

from redis.exceptions import RedisError

from .alerts import AlertQueries
from .health import HealthMonitor
from .queries import TickerQueries

log = logging.getLogger(__name__)
HEALTH_EVERY_S = 3.0
STREAM_ID = re.compile(r"^(\$|\d+(-\d+)?)$")


def sse(event: str, data: str, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return head + f"event: {event}\n" + "".join(f"data: {line}\n" for line in data.splitlines()) + "\n"


async def live_events(tickers: TickerQueries, alerts: AlertQueries, health: HealthMonitor, *, refresh_s: float,
                      disconnected: Callable[[], Awaitable[bool]], last_alert_id: str = "$") -> AsyncIterator[str]:
    """Yield SSE frames until the client goes away. ``last_alert_id`` resumes the alert feed (``Last-Event-ID``)."""
    if not STREAM_ID.match(last_alert_id or ""):
        last_alert_id = "$"  # not a stream entry id: follow from now on
    yield f"retry: {int(refresh_s * 2000)}\n\n"
    last_tickers, health_due = None, 0.0
    loop = asyncio.get_running_loop()
    while not await disconnected():
        try:
            listing = (await tickers.tickers()).model_dump_json()
            if listing != last_tickers:
                last_tickers = listing
                yield sse("tickers", listing)
            last_alert_id, items = await alerts.since(last_alert_id)
            for item in items:
                yield sse("alert", item.model_dump_json(), item.entry_id)
        except RedisError as exc:  # keep the connection; the page shows the problem and waits
            log.warning("dashboard: Redis read failed: %s", exc)
            yield sse("problem", json.dumps({"detail": f"Redis unreachable or failing: {type(exc).__name__}"}))
        if loop.time() >= health_due:
            health_due = loop.time() + max(HEALTH_EVERY_S, refresh_s)
            yield sse("health", (await health.check()).model_dump_json())
        else:
            yield ": keep-alive\n\n"
        await asyncio.sleep(refresh_s)
