"""Per-ticker detector state in Redis, applied once per message id, with alerts in the same commit.

Keys (prefix ``fs:alerts``): ``:ticker:{T}`` hash {v: version, state: JSON}; ``:seen:{T}`` sorted set
of applied message ids (newest ``seen_max`` kept); ``:active`` hash fingerprint -> payload of
alerts now firing. One Lua script compares the version read with the version stored and, only if
they match, writes the new state, records the ids, appends the alerts to the Redis Stream (the
durable outbox the dispatchers read) and publishes them. So a redelivered message, a restarted
worker or a second worker racing on the same ticker can never apply an article twice or emit an
alert twice: the loser of a race re-reads, finds the ids seen, and does nothing.
"""
from __future__ import annotations

import json
import time
from typing import Any

from stream.alerts.config import AlertConfig

COMMIT = """
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return {0, v} end
redis.call('HSET', KEYS[1], 'v', v + 1, 'state', ARGV[2])
local ttl, now = tonumber(ARGV[3]), tonumber(ARGV[7])
redis.call('EXPIRE', KEYS[1], ttl)
local n_ids = tonumber(ARGV[8])
for i = 1, n_ids do redis.call('ZADD', KEYS[2], now, ARGV[8 + i]) end
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[4]) - 1)
redis.call('EXPIRE', KEYS[2], ttl)
local i = 9 + n_ids
while i + 2 <= #ARGV do
  local fp, state, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'fingerprint', fp, 'state', state, 'payload', payload)
  redis.call('PUBLISH', ARGV[6], payload)
  if state == 'firing' then redis.call('HSET', KEYS[4], fp, payload) else redis.call('HDEL', KEYS[4], fp) end
  i = i + 3
end
return {1, v + 1}
"""


class StateStore:
    def __init__(self, redis: Any, config: AlertConfig) -> None:
        self.redis, self.config = redis, config
        self.prefix = config.key_prefix
        self._commit = redis.register_script(COMMIT)

    def state_key(self, ticker: str) -> str:
        return f"{self.prefix}:ticker:{ticker}"

    def seen_key(self, ticker: str) -> str:
        return f"{self.prefix}:seen:{ticker}"

    @property
    def active_key(self) -> str:
        return f"{self.prefix}:active"

    async def load(self, wanted: dict[str, list[str]]) -> dict[str, tuple[int, dict | None, set[str]]]:
        """For each ticker: version, saved state (None for a new ticker) and which of its ids were already
        applied; every ticker of a batch in one round trip."""
        tickers = list(wanted)
        async with self.redis.pipeline(transaction=True) as pipe:
            for ticker in tickers:
                pipe.hmget(self.state_key(ticker), "v", "state")
                pipe.zmscore(self.seen_key(ticker), wanted[ticker])
            replies = await pipe.execute()
        out = {}
        for k, ticker in enumerate(tickers):
            (version, raw), scores = replies[2 * k], replies[2 * k + 1]
            out[ticker] = (int(version or 0), json.loads(raw) if raw else None,
                           {i for i, s in zip(wanted[ticker], scores) if s is not None})
        return out

    async def commit(self, changes: dict[str, tuple[int, dict, list[str], list[dict]]]) -> dict[str, bool]:
        """For each ticker (version read, new state, applied ids, alerts): write them if nobody committed since
        that version was read. One script call per ticker (each atomic), all in one round trip; returns which
        tickers committed."""
        c = self.config
        now_ms = int(time.time() * 1000)
        tickers = list(changes)
        async with self.redis.pipeline(transaction=False) as pipe:
            for ticker in tickers:
                version, state, ids, alerts = changes[ticker]
                args: list[Any] = [version, json.dumps(state, separators=(",", ":")), c.seen_ttl_s, c.seen_max,
                                   c.stream_maxlen, c.channel, now_ms, len(ids), *ids]
                for alert in alerts:
                    args += [alert["fingerprint"], alert["state"], json.dumps(alert, separators=(",", ":"))]
                keys = [self.state_key(ticker), self.seen_key(ticker), c.stream_key, self.active_key]
                await self._commit(keys=keys, args=args, client=pipe)  # queued: runs on execute()
            replies = await pipe.execute()
        return {ticker: bool(ok) for ticker, (ok, _) in zip(tickers, replies)}

    async def active_alerts(self) -> list[dict]:
        return [json.loads(v) for v in (await self.redis.hgetall(self.active_key)).values()]
