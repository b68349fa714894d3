"""Deliver alerts from the Redis Stream outbox to one sink, through that sink's consumer group.

Every sink gets its own group (``{dispatch_group}:{sink.name}``), so each keeps its own position and
pending list: at-least-once per sink, in stream order, across restarts and several workers (a
dead worker's pending entries are claimed after ``claim_idle_ms``). An alert a receiver refuses
for good, or one that failed ``max_deliveries`` times, is moved to ``{prefix}:dead`` and acked.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from redis.exceptions import ResponseError

from stream.alerts.config import AlertConfig
from stream.alerts.sinks import AlertSink, DeliveryError, PermanentDeliveryError

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, redis: Any, config: AlertConfig, sink: AlertSink, consumer: str, *,
                 batch: int = 100, claim_idle_ms: int = 30_000, max_deliveries: int = 10) -> None:
        self.redis, self.config, self.sink, self.consumer = redis, config, sink, consumer
        self.stream, self.group = config.stream_key, f"{config.dispatch_group}:{sink.name}"
        self.dead_key = f"{config.key_prefix}:dead"
        self.batch, self.claim_idle_ms, self.max_deliveries = batch, claim_idle_ms, max_deliveries
        self.delivered = 0
        self._failures: dict[bytes, int] = {}
        self._group_ready = False

    async def ensure_group(self) -> None:
        """Create the group at the stream's end (a new sink does not replay old alerts)."""
        if self._group_ready:
            return
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="$", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def _entries(self, block_ms: int | None) -> list[tuple[bytes, dict]]:
        own = await self.redis.xreadgroup(self.group, self.consumer, {self.stream: "0"}, count=self.batch)
        entries = own[0][1] if own else []
        if not entries:
            claimed = await self.redis.xautoclaim(self.stream, self.group, self.consumer,
                                                  self.claim_idle_ms, "0-0", count=self.batch)
            entries = [e for e in claimed[1] if e[1]]
        if not entries:
            new = await self.redis.xreadgroup(self.group, self.consumer, {self.stream: ">"},
                                              count=self.batch, block=block_ms)
            entries = new[0][1] if new else []
        return entries

    async def drain(self, block_ms: int | None = None) -> int:
        """Deliver what is available (waiting up to ``block_ms`` for new entries); returns how many.

        Stops at the first transient failure so that alerts reach the sink in order."""
        await self.ensure_group()
        done = 0
        while True:
            entries = await self._entries(block_ms)
            if not entries:
                return done
            for entry_id, fields in entries:
                alert = json.loads(fields[b"payload"])
                try:
                    await self.sink.send(alert)
                except PermanentDeliveryError as exc:
                    await self._dead(entry_id, fields, str(exc))
                except DeliveryError as exc:
                    n = self._failures[entry_id] = self._failures.get(entry_id, 0) + 1
                    if n < self.max_deliveries:
                        log.warning("%s: %s (try %d of %d)", self.group, exc, n, self.max_deliveries)
                        return done
                    await self._dead(entry_id, fields, str(exc))
                else:
                    await self.redis.xack(self.stream, self.group, entry_id)
                    self._failures.pop(entry_id, None)
                    done += 1
                    self.delivered += 1
            block_ms = None

    async def _dead(self, entry_id: bytes, fields: dict, error: str) -> None:
        log.error("%s: giving up on alert %s: %s", self.group, entry_id, error)
        await self.redis.xadd(self.dead_key, {**fields, b"group": self.group, b"error": error},
                              maxlen=10_000, approximate=True)
        await self.redis.xack(self.stream, self.group, entry_id)
        self._failures.pop(entry_id, None)

    async def run(self, stop: asyncio.Event, block_ms: int = 1000, retry_s: float = 1.0) -> None:
        """Drain until ``stop`` is set; pause ``retry_s`` after a failed round."""
        while not stop.is_set():
            try:
                if await self.drain(block_ms=block_ms) == 0 and self._failures:
                    await asyncio.sleep(retry_s)
            except Exception:  # Redis hiccup: keep the task alive, try again shortly
                log.exception("%s: dispatch round failed", self.group)
                await asyncio.sleep(retry_s)
