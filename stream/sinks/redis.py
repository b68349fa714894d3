"""Redis sink: one pipeline per batch of script calls (a chunk of documents each), idempotent by message id."""
from __future__ import annotations

import json
import time
from typing import Callable, NamedTuple

from redis.asyncio import Redis

from ..aggregates import LN2, label_sign
from ..records import ScoredRecord
from ..windows import Window
from .base import Batch
from .redis_script import WRITE_DOC

PREFIX = "fs:"
TICKERS_KEY = PREFIX + "tickers"


def doc_key(doc_id: str) -> str:
    return f"{PREFIX}doc:{doc_id}"


class TickerKeys(NamedTuple):
    """A ticker's keys (docs/redis.md); each window's buckets live in ``buckets_key(ticker, window)``."""

    docs: str  # sorted set: document id -> event time (ms)
    buckets: str  # prefix of the per-window bucket hashes: f"{buckets}:{window}"
    agg: str  # hash: rolling aggregates and EWMA


def ticker_keys(ticker: str) -> TickerKeys:
    base = f"{PREFIX}tk:{ticker}:"
    return TickerKeys(base + "docs", base + "buckets", base + "agg")


def agg_key(ticker: str) -> str:
    return f"{PREFIX}tk:{ticker}:agg"


def buckets_key(ticker: str, window: str) -> str:
    """Hash of one window's buckets: bucket index -> ``"count sum pos neg"``."""
    return f"{PREFIX}tk:{ticker}:buckets:{window}"


def parse_bucket(value: str | bytes) -> tuple[int, float, int, int]:
    """A bucket field's value -> (count, sum of scores, positives, negatives)."""
    n, total, pos, neg = (value.decode() if isinstance(value, bytes) else value).split()
    return int(n), float(total), int(pos), int(neg)


def window_head(state: str | bytes | None) -> int | None:
    """Index of a window's newest bucket, from the aggregate field ``{window}:state`` (None before any write)."""
    if not state:
        return None
    return int((state.decode() if isinstance(state, bytes) else state).split()[0])


def doc_fields(record: ScoredRecord, scored_at_ms: int) -> dict[str, str]:
    """The document hash (strings only; floats as repr, so they round-trip exactly)."""
    fields = {"id": record.id, "ts": record.ts, "ts_ms": str(record.ts_ms), "tickers": ",".join(record.tickers),
              "label": record.label, "score": repr(record.score), "model_version": record.model_version,
              "latency_ms": f"{record.latency_ms:.3f}", "text": record.text, "scored_at_ms": str(scored_at_ms)}
    fields.update({f"p_{label}": repr(p) for label, p in record.probabilities.items()})
    if record.source is not None:
        fields["source"] = record.source
    return fields


class RedisSink:
    """Writes a batch as one pipeline of script calls, ``chunk`` documents per call (a call blocks Redis for
    roughly 50 us per document, so chunks keep other clients' waits short)."""

    name = "redis"

    def __init__(self, client: Redis, windows: tuple[Window, ...], *, doc_ttl_s: int, ticker_ttl_s: int,
                 retention_s: int, ewma_halflife_s: float, chunk: int = 64,
                 on_result: Callable[[int, int], None] | None = None):
        self.client = client
        self.chunk = chunk
        self._script = client.register_script(WRITE_DOC)
        self._config = [PREFIX, str(doc_ttl_s * 1000), str(ticker_ttl_s * 1000), str(retention_s * 1000),
                        repr(ewma_halflife_s * 1000 / LN2), ",".join(w.spec() for w in windows)]
        self._on_result = on_result  # (written, duplicates) per batch

    async def write(self, batch: Batch) -> None:
        if not batch.records:
            return
        now_ms = int(time.time() * 1000)
        docs = [{"id": r.id, "ts": r.ts_ms, "score": float(r.score), "sign": label_sign(r.label),
                 "tickers": list(r.tickers), "fields": doc_fields(r, now_ms)} for r in batch.records]
        async with self.client.pipeline(transaction=False) as pipe:
            for start in range(0, len(docs), self.chunk):
                payload = json.dumps(docs[start:start + self.chunk], ensure_ascii=False)
                await self._script(keys=[], args=[*self._config, payload], client=pipe)
            results = [flag for chunk in await pipe.execute() for flag in chunk]
        if self._on_result is not None:
            written = sum(results)
            self._on_result(written, len(results) - written)
