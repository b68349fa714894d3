"""One micro-batch, start to finish: validate, score, then write every sink; return only when all succeeded.

The faust agent (``stream.app``) acknowledges a batch's offsets only after ``BatchPipeline.run`` returns, so a
failure anywhere retries with backoff instead of moving on, and a stopping worker abandons the batch
(``retry.Abandoned``) for redelivery. Sinks are idempotent, so the retries and redeliveries are harmless.
"""
from __future__ import annotations

import asyncio
import time
from typing import Callable, Sequence

from .metrics import Metrics
from .records import DeadLetter, NewsItem, RawMessage
from .retry import Backoff, retry
from .scoring import AsyncScoreMany, score_items, to_record
from .sinks.base import Batch, Sink


def split_valid(raws: Sequence[RawMessage], validate: Callable[[RawMessage], NewsItem | DeadLetter]
                ) -> tuple[list[NewsItem], list[DeadLetter]]:
    items, dead = [], []
    for raw in raws:
        result = validate(raw)
        (items if isinstance(result, NewsItem) else dead).append(result)
    return items, dead


class BatchPipeline:
    """``run(raws)`` validates, scores and writes one micro-batch to every sink, returning once all succeeded.

    With ``chunk`` set, the batch is scored ``chunk`` items at a time and each chunk is written as soon as it is
    scored, while the next one is being scored: model time (a thread) overlaps Redis and Kafka time (the event
    loop). Offsets are still acknowledged only after ``run`` returns, i.e. after every chunk was written.
    """

    def __init__(self, validate: Callable[[RawMessage], NewsItem | DeadLetter], infer: AsyncScoreMany,
                 model_version: str, sinks: Sequence[Sink], backoff: Backoff, metrics: Metrics,
                 clock: Callable[[], float] = time.time, chunk: int | None = None):
        if chunk is not None and chunk < 1:
            raise ValueError(f"chunk must be None or >= 1, got {chunk}")
        self.validate = validate
        self.infer = infer
        self.model_version = model_version
        self.sinks = list(sinks)
        self.backoff = backoff
        self.metrics = metrics
        self.clock = clock
        self.chunk = chunk
        metrics.model_info.labels(version=model_version).set(1)

    async def run(self, raws: Sequence[RawMessage], should_stop: Callable[[], bool] = lambda: False) -> Batch:
        m = self.metrics
        m.messages_in.inc(len(raws))
        m.batch_size.observe(len(raws))
        items, dead = split_valid(raws, self.validate)
        size = self.chunk or max(1, len(items))
        chunks = [items[i:i + size] for i in range(0, len(items), size)] or [[]]

        pending: list[asyncio.Future] = []
        try:
            scoring = asyncio.ensure_future(self._score(chunks[0], should_stop))
            pending.append(scoring)
            writes = []
            for k in range(len(chunks)):
                batch, kafka_ts = await scoring
                if k + 1 < len(chunks):  # score the next chunk while this one is written
                    scoring = asyncio.ensure_future(self._score(chunks[k + 1], should_stop))
                    pending.append(scoring)
                if k == 0:
                    batch = Batch(batch.records, dead + batch.dead)
                writes.append(asyncio.ensure_future(self._write_all(batch, kafka_ts, should_stop)))
                pending.append(writes[-1])
            done = [await w for w in writes]
        finally:
            for future in pending:  # an error (or Abandoned) in one step: stop the others
                future.cancel()
        return Batch([r for b in done for r in b.records], [d for b in done for d in b.dead])

    async def _score(self, items: list[NewsItem], should_stop: Callable[[], bool]) -> tuple[Batch, list[int]]:
        """The chunk's records and rejects, and the Kafka timestamps of the records' inputs."""
        m = self.metrics
        started = time.perf_counter()
        scored, rejected = await retry(lambda: score_items(items, self.infer), self.backoff, should_stop,
                                       what=f"inference of {len(items)} texts",
                                       on_error=lambda exc: m.model_errors.inc())
        if items:
            m.inference.observe(time.perf_counter() - started)
        now_ms = int(self.clock() * 1000)
        return (Batch([to_record(item, score, self.model_version, now_ms) for item, score in scored], rejected),
                [item.raw.timestamp_ms for item, _ in scored])

    async def _write_all(self, batch: Batch, kafka_ts: list[int], should_stop: Callable[[], bool]) -> Batch:
        # Each write retries on its own until it succeeds or the worker stops; a sink that already
        # succeeded is not repeated while another one retries.
        results = await asyncio.gather(*(self._write(sink, batch, should_stop) for sink in self.sinks),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

        m = self.metrics
        done = self.clock()
        m.messages_out.inc(len(batch.records))
        for letter in batch.dead:
            m.dead_lettered.labels(reason=letter.reason.value).inc()
        for ts_ms in kafka_ts:
            m.e2e_latency.observe(max(0.0, done - ts_ms / 1000))
        m.last_batch.set(done)
        return batch

    async def _write(self, sink: Sink, batch: Batch, should_stop: Callable[[], bool]) -> None:
        async def attempt() -> None:
            started = time.perf_counter()
            await sink.write(batch)
            self.metrics.observe_write(sink.name, time.perf_counter() - started)

        await retry(attempt, self.backoff, should_stop, what=f"{sink.name} write of {len(batch.records)} records",
                    on_error=lambda exc: self.metrics.write_failed(sink.name))
