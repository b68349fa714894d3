"""Silences: time-limited mutes by ticker and/or rule, kept in one Redis hash for every worker."""
from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from stream.alerts.errors import AlertConfigError

RULES = ("ewma", "cusum", "volume")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
EXPIRED_RETENTION_S = 86400.0


def parse_duration(text: str) -> float:
    """``"90s"``, ``"15m"``, ``"2h30m"``, ``"1d"`` -> seconds.

    >>> parse_duration("2h30m"), parse_duration("45")
    (9000.0, 45.0)
    """
    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhdw])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise AlertConfigError(f"duration: expected e.g. 30m, 2h or 1d12h, got {text!r}")
    return float(sum(float(n) * _UNITS[u] for n, u in parts))


@dataclass(frozen=True)
class Silence:
    id: str
    ticker: str | None
    rule: str | None
    starts_at: float
    ends_at: float
    comment: str = ""
    created_by: str = ""

    def is_active(self, now: float) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, ticker: str, rule: str, now: float) -> bool:
        """A silence with no ticker mutes every ticker (likewise for rule).

        >>> s = Silence("x", "AAPL", None, starts_at=0, ends_at=10)
        >>> s.matches("AAPL", "ewma", 5), s.matches("MSFT", "ewma", 5), s.matches("AAPL", "cusum", 10)
        (True, False, False)
        """
        return (self.is_active(now) and (self.ticker is None or self.ticker == ticker)
                and (self.rule is None or self.rule == rule))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Silence:
        return cls(**json.loads(raw))

    @classmethod
    def create(cls, *, ticker: str | None, rule: str | None, duration_s: float, now: float,
               comment: str = "", created_by: str = "") -> Silence:
        if not ticker and not rule:
            raise AlertConfigError("silence: expected a ticker, a rule or both; got neither")
        if rule is not None and rule not in RULES:
            raise AlertConfigError(f"silence.rule: expected one of {', '.join(RULES)}, got {rule!r}")
        if not duration_s > 0:
            raise AlertConfigError(f"silence.duration: expected a positive duration, got {duration_s!r}")
        return cls(id=uuid.uuid4().hex[:12], ticker=ticker.strip().upper() if ticker else None, rule=rule,
                   starts_at=now, ends_at=now + duration_s, comment=comment, created_by=created_by)


def is_silenced(silences: list[Silence], ticker: str, rule: str, now: float) -> bool:
    return any(s.matches(ticker, rule, now) for s in silences)


class SilenceStore:
    """Silences in the Redis hash ``{prefix}:silences`` (id -> JSON); reads are cached briefly."""

    def __init__(self, redis: Any, prefix: str = "fs:alerts", cache_s: float = 2.0) -> None:
        self.redis, self.key, self.cache_s = redis, f"{prefix}:silences", cache_s
        self._cache: tuple[float, list[Silence]] | None = None

    async def add(self, silence: Silence) -> Silence:
        await self.redis.hset(self.key, silence.id, silence.to_json())
        self._cache = None
        return silence

    async def all(self) -> list[Silence]:
        raw = await self.redis.hgetall(self.key)
        return sorted((Silence.from_json(v) for v in raw.values()), key=lambda s: s.starts_at)

    async def list(self, now: float | None = None, include_expired: bool = False) -> list[Silence]:
        now = time.time() if now is None else now
        items = await self.all()
        stale = [s.id for s in items if s.ends_at < now - EXPIRED_RETENTION_S]
        if stale:
            await self.redis.hdel(self.key, *stale)
        return [s for s in items if s.id not in stale and (include_expired or s.ends_at > now)]

    async def expire(self, silence_id: str, now: float | None = None) -> Silence | None:
        """End a silence now; returns it, or None when no silence has that id."""
        now = time.time() if now is None else now
        raw = await self.redis.hget(self.key, silence_id)
        if raw is None:
            return None
        old = Silence.from_json(raw)
        new = Silence(**{**asdict(old), "ends_at": min(old.ends_at, now)})
        await self.redis.hset(self.key, silence_id, new.to_json())
        self._cache = None
        return new

    async def active(self, now: float | None = None) -> list[Silence]:
        """Silences in force now (cached for ``cache_s`` so a worker reads Redis at most that often)."""
        now = time.time() if now is None else now
        mono = time.monotonic()
        if self._cache is None or mono - self._cache[0] > self.cache_s:
            self._cache = (mono, await self.all())
        return [s for s in self._cache[1] if s.is_active(now)]
