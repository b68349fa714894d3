"""The alert feed and silences, read and written through the alert package's own stores, so the dashboard
and ``finsentry silence`` / ``finsentry alerts`` always agree."""
from __future__ import annotations

import json
import time
from typing import Any

from ..alerts.config import AlertConfig
from ..alerts.silences import Silence, SilenceStore, parse_duration
from ..alerts.store import StateStore
from .models import AlertFeed, AlertItem, SilenceIn, SilenceOut


def silence_out(s: Silence, now: float) -> SilenceOut:
    return SilenceOut(id=s.id, ticker=s.ticker, rule=s.rule, starts_at=s.starts_at, ends_at=s.ends_at,
                      comment=s.comment, created_by=s.created_by, active=s.is_active(now))


def _item(entry_id: str, fields: dict[str, str]) -> AlertItem:
    return AlertItem(entry_id=entry_id, payload=json.loads(fields["payload"]))


class AlertQueries:
    """``redis`` must decode responses."""

    def __init__(self, redis: Any, config: AlertConfig):
        self.redis, self.config = redis, config
        self.state = StateStore(redis, config)
        self.silences = SilenceStore(redis, config.key_prefix, cache_s=0)

    async def feed(self, limit: int, state: str | None = None, ticker: str | None = None) -> AlertFeed:
        """Active alerts and up to ``limit`` recent notifications (optionally of one state and ticker)."""
        active = sorted(await self.state.active_alerts(), key=lambda a: a.get("fired_at") or "", reverse=True)
        recent: list[AlertItem] = []
        last = "+"
        while len(recent) < limit:  # filtered reads may need more than one page of the stream
            page = await self.redis.xrevrange(self.config.stream_key, max=last, count=max(limit, 100))
            if last != "+":
                page = page[1:]  # the exclusive end of the previous page
            if not page:
                break
            for entry_id, fields in page:
                item = _item(entry_id, fields)
                if (state is None or item.payload.get("state") == state) and (
                        ticker is None or item.payload.get("ticker") == ticker):
                    recent.append(item)
            last = page[-1][0]
        if ticker is not None:
            active = [a for a in active if a.get("ticker") == ticker]
        if state == "resolved":
            active = []
        return AlertFeed(active=active, recent=recent[:limit])

    async def since(self, last_id: str, count: int = 100) -> tuple[str, list[AlertItem]]:
        """Notifications after stream entry ``last_id`` ("$" = from now on), oldest first, and the new last id."""
        if last_id == "$":
            newest = await self.redis.xrevrange(self.config.stream_key, count=1)
            return (newest[0][0] if newest else "0-0"), []
        got = await self.redis.xread({self.config.stream_key: last_id}, count=count)
        items = [_item(entry_id, fields) for entry_id, fields in (got[0][1] if got else [])]
        return (items[-1].entry_id if items else last_id), items

    async def list_silences(self, include_expired: bool) -> list[SilenceOut]:
        now = time.time()
        return [silence_out(s, now) for s in await self.silences.list(now, include_expired=include_expired)]

    async def add_silence(self, body: SilenceIn) -> SilenceOut:
        """Raises ``AlertConfigError`` (a ValueError) for a bad duration or an empty matcher."""
        now = time.time()
        silence = Silence.create(ticker=body.ticker or None, rule=body.rule, duration_s=parse_duration(body.duration),
                                 now=now, comment=body.comment, created_by=body.created_by)
        return silence_out(await self.silences.add(silence), now)

    async def expire_silence(self, silence_id: str) -> SilenceOut | None:
        now = time.time()
        silence = await self.silences.expire(silence_id, now)
        return None if silence is None else silence_out(silence, now)
