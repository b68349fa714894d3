"""Redis sink: one pipeline per batch, one EVALSHA per document, idempotent by message id."""
from __future__ import annotations

import time
from typing import Callable

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


def ticker_keys(ticker: str) -> tuple[str, str, str]:
    """(docs zset, buckets hash, aggregate hash) of one ticker."""
    base = f"{PREFIX}tk:{ticker}:"
    return base + "docs", base + "buckets", base + "agg"


def doc_fields(record: ScoredRecord, scored_at_ms: int) -> list[str]:
    fields = {"id": record.id, "ts": record.ts, "ts_ms": record.ts_ms, "tickers": ",".join(record.tickers),
              "label": record.label, "score": repr(record.score), "model_version": record.model_version,
              "latency_ms": f"{record.latency_ms:.3f}", "text": record.text, "scored_at_ms": scored_at_ms}
    fields.update({f"p_{label}": repr(p) for label, p in record.probabilities.items()})
    if record.source is not None:
        fields["source"] = record.source
    return [str(x) for kv in fields.items() for x in kv]


class RedisSink:
    name = "redis"

    def __init__(self, client: Redis, windows: tuple[Window, ...], *, doc_ttl_s: int, ticker_ttl_s: int,
                 retention_s: int, ewma_halflife_s: float, on_result: Callable[[int, int], None] | None = None):
        self.client = client
        self._script = client.register_script(WRITE_DOC)
        self._windows = ",".join(w.spec() for w in windows)
        self._fixed = [str(doc_ttl_s * 1000), str(ticker_ttl_s * 1000), str(retention_s * 1000),
                       repr(ewma_halflife_s * 1000 / LN2), self._windows]
        self._on_result = on_result  # (written, duplicates) per batch

    async def write(self, batch: Batch) -> None:
        if not batch.records:
            return
        now_ms = int(time.time() * 1000)
        async with self.client.pipeline(transaction=False) as pipe:
            for record in batch.records:
                keys = [doc_key(record.id), TICKERS_KEY]
                for ticker in record.tickers:
                    keys.extend(ticker_keys(ticker))
                args = [record.id, str(record.ts_ms), repr(float(record.score)), str(label_sign(record.label)),
                        *self._fixed, str(len(record.tickers)), *record.tickers, *doc_fields(record, now_ms)]
                await self._script(keys=keys, args=args, client=pipe)
            results = await pipe.execute()
        if self._on_result is not None:
            written = sum(1 for r in results if r == 1)
            self._on_result(written, len(results) - written)
