"""The batch pipeline with in-memory sinks and a plain scoring function: no services."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest

from models import ModelError
from stream.metrics import Metrics
from stream.pipeline import BatchPipeline
from stream.records import RawMessage, Reason
from stream.retry import Abandoned, Backoff
from stream.sinks import Batch, MemorySink
from stream.sinks.kafka import DeadLetterSink, ScoredSink
from stream.tickers import TickerExtractor
from stream.validation import Validator
from stream.windows import parse_windows


@dataclass(frozen=True)
class FakeScore:
    label: str
    probs: dict
    score: float


def score_many(texts):
    """Positive when the text says 'up', negative for 'down', else neutral."""
    out = []
    for text in texts:
        if "poison" in text:
            raise ModelError(f"cannot score {text!r}")
        label = "positive" if "up" in text else "negative" if "down" in text else "neutral"
        p = {"negative": 0.1, "neutral": 0.1, "positive": 0.1, label: 0.8}
        out.append(FakeScore(label, p, p["positive"] - p["negative"]))
    return out


async def infer(texts):
    return score_many(texts)


class FakePublisher:
    def __init__(self):
        self.sent: list[tuple] = []

    async def send(self, topic, key, value, headers=None):
        self.sent.append((topic, key, value, headers))
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class FlakySink:
    name = "redis"

    def __init__(self, inner, failures: int):
        self.inner, self.failures, self.calls = inner, failures, 0

    async def write(self, batch: Batch) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("redis is down")
        await self.inner.write(batch)


def raws(*values: bytes) -> list[RawMessage]:
    return [RawMessage(v, None, "news", 0, i, 1_700_000_000_000) for i, v in enumerate(values)]


def make(sinks, infer_fn=infer, metrics=None):
    validator = Validator(TickerExtractor({"AAPL": ("Apple",)}))
    return BatchPipeline(validator, infer_fn, "test-v1", sinks, Backoff(0.001, 0.002), metrics or Metrics())


WINDOWS = parse_windows(["5m", "1h"])


async def test_scores_valid_messages_and_dead_letters_bad_ones():
    memory, publisher = MemorySink(WINDOWS), FakePublisher()
    pipeline = make([memory, ScoredSink(publisher, "news.scored", "news.by_ticker"),
                     DeadLetterSink(publisher, "news.dlq")])
    batch = await pipeline.run(raws(b'{"id": "a", "text": "Apple up"}', b"\xff", b'{"id": "b", "text": "$TSLA down"}'))
    assert [r.id for r in batch.records] == ["a", "b"]
    assert [(r.label, r.tickers, r.model_version) for r in batch.records] == [
        ("positive", ["AAPL"], "test-v1"), ("negative", ["TSLA"], "test-v1")]
    assert [d.reason for d in batch.dead] == [Reason.NOT_UTF8]
    assert set(memory.docs) == {"a", "b"}
    topics = [s[0] for s in publisher.sent]
    assert topics.count("news.scored") == 2 and topics.count("news.by_ticker") == 2 and topics.count("news.dlq") == 1
    dlq = next(s for s in publisher.sent if s[0] == "news.dlq")
    assert dlq[2] == b"\xff" and ("finsentry-reason", b"not_utf8") in dlq[3]
    scored = json.loads(next(s for s in publisher.sent if s[0] == "news.scored")[2])
    assert scored["id"] == "a" and scored["probabilities"]["positive"] == pytest.approx(0.8)


async def test_redelivered_batch_changes_nothing():
    memory = MemorySink(WINDOWS)
    pipeline = make([memory])
    messages = raws(b'{"id": "a", "ts": 1000, "text": "Apple up"}', b'{"id": "b", "ts": 2000, "text": "Apple down"}')
    await pipeline.run(messages)
    before = {t: agg.snapshot() for t, agg in memory.tickers.items()}
    await pipeline.run(messages)
    assert {t: agg.snapshot() for t, agg in memory.tickers.items()} == before
    assert memory.duplicates == 2 and len(memory.docs) == 2
    assert before["AAPL"]["5m:count"] == 2 and before["AAPL"]["5m:mean"] == pytest.approx(0.0)


async def test_failing_sink_is_retried_and_others_are_not_repeated():
    memory, other = MemorySink(WINDOWS), MemorySink(WINDOWS, name="other")
    flaky = FlakySink(memory, failures=3)
    metrics = Metrics()
    await make([flaky, other], metrics=metrics).run(raws(b"Apple up"))
    assert flaky.calls == 4 and other.writes == 1 and len(memory.docs) == 1
    assert metrics.redis_errors._value.get() == 3


async def test_stopping_worker_abandons_a_failing_batch():
    flaky = FlakySink(MemorySink(WINDOWS), failures=10**9)
    with pytest.raises(Abandoned):
        await make([flaky]).run(raws(b"Apple up"), should_stop=lambda: flaky.calls >= 2)


async def test_texts_the_model_rejects_are_dead_lettered_alone():
    memory = MemorySink(WINDOWS)
    batch = await make([memory]).run(raws(b"Apple up", b"poison pill", b"Apple down"))
    assert [r.text for r in batch.records] == ["Apple up", "Apple down"]
    assert [(d.reason, d.raw.offset) for d in batch.dead] == [(Reason.MODEL_ERROR, 1)]


async def test_systemic_model_failure_is_retried_not_dead_lettered():
    calls = 0

    async def broken_then_fine(texts):
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RuntimeError("CUDA out of memory")
        return score_many(texts)

    metrics = Metrics()
    batch = await make([MemorySink(WINDOWS)], broken_then_fine, metrics).run(raws(b"Apple up"))
    assert len(batch.records) == 1 and not batch.dead and metrics.model_errors._value.get() == 2


async def test_metrics_count_in_out_and_dead():
    metrics = Metrics()
    await make([MemorySink(WINDOWS)], metrics=metrics).run(raws(b"Apple up", b"", b"{"))
    text = metrics.exposition().decode()
    assert "finsentry_messages_in_total 3.0" in text and "finsentry_messages_out_total 1.0" in text
    assert 'finsentry_messages_dead_lettered_total{reason="invalid_json"} 1.0' in text
    assert 'finsentry_model_info{version="test-v1"} 1.0' in text


class SlowSink:
    """Records when each write starts and ends (to see what overlaps with inference)."""

    name = "slow"

    def __init__(self, log: list):
        self.log, self.batches = log, []

    async def write(self, batch: Batch) -> None:
        self.log.append(("write", [r.id for r in batch.records]))
        await asyncio.sleep(0.01)
        self.batches.append(batch)
        self.log.append(("written", [r.id for r in batch.records]))


async def test_chunks_are_written_while_the_next_is_scored():
    log: list = []

    async def logged_infer(texts):
        log.append(("infer", len(texts)))
        await asyncio.sleep(0.005)
        return score_many(texts)

    sink = SlowSink(log)
    validator = Validator(TickerExtractor({"AAPL": ("Apple",)}))
    pipeline = BatchPipeline(validator, logged_infer, "v", [sink], Backoff(0.001, 0.002), Metrics(), chunk=2)
    messages = raws(*(json.dumps({"id": f"m{i}", "text": "Apple up"}).encode() for i in range(5)), b"\xff")
    batch = await pipeline.run(messages)
    assert [r.id for r in batch.records] == [f"m{i}" for i in range(5)] and len(batch.dead) == 1
    assert [len(b.records) for b in sink.batches] == [2, 2, 1]
    assert [len(b.dead) for b in sink.batches] == [1, 0, 0]  # dead letters go with the first chunk
    # the second chunk is scored before the first one's write has finished
    assert log.index(("infer", 2), 1) < log.index(("written", ["m0", "m1"]))


async def test_a_stopping_worker_abandons_a_chunked_batch_and_cancels_its_other_steps():
    flaky = FlakySink(MemorySink(WINDOWS), failures=10**9)
    validator = Validator(TickerExtractor({"AAPL": ("Apple",)}))
    pipeline = BatchPipeline(validator, infer, "v", [flaky], Backoff(0.001, 0.002), Metrics(), chunk=1)
    with pytest.raises(Abandoned):
        await pipeline.run(raws(b"Apple up", b"Apple down", b"Apple flat"), should_stop=lambda: flaky.calls >= 4)
    await asyncio.sleep(0.01)
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
