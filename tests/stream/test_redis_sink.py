"""The Redis script against its Python twin (stream.aggregates) and the idempotency guarantee, on real Redis."""
from __future__ import annotations

import asyncio
import random

import pytest

from stream.records import ScoredRecord, iso_ms
from stream.sinks import Batch, MemorySink
from stream.sinks.redis import RedisSink
from stream.windows import parse_windows

pytestmark = pytest.mark.integration

WINDOWS = parse_windows(["1m", "10m"], buckets=12)


def records(n: int, seed: int = 3) -> list[ScoredRecord]:
    rng = random.Random(seed)
    ts, out = 1_700_000_000_000, []
    for i in range(n):
        ts += rng.choice([0, 500, 4_000, 30_000, 700_000])  # bursts, gaps and jumps past whole windows
        event_ts = ts - rng.choice([0, 0, 0, 20_000, 90_000])  # some late arrivals
        label = rng.choice(["positive", "neutral", "negative"])
        score = rng.uniform(-1, 1)
        out.append(ScoredRecord(id=f"r{i}", ts=iso_ms(event_ts), ts_ms=event_ts,
                                tickers=rng.sample(["AAPL", "MSFT", "TSLA"], rng.randint(0, 2)), label=label,
                                probabilities={"negative": 0.2, "neutral": 0.3, "positive": 0.5}, score=score,
                                model_version="v", latency_ms=1.5, text=f"headline {i}", source="test"))
    return out


def snapshot(client) -> dict:
    state = {}
    for key in sorted(client.keys("fs:*")):
        kind = client.type(key)
        if kind == "hash":
            state[key] = client.hgetall(key)
        elif kind == "zset":
            state[key] = client.zrange(key, 0, -1, withscores=True)
    return state


def write_all(url: str, batches: list[list[ScoredRecord]]) -> None:
    from redis.asyncio import Redis

    async def run() -> None:
        client = Redis.from_url(url)
        sink = RedisSink(client, WINDOWS, doc_ttl_s=3600, ticker_ttl_s=7200, retention_s=600, ewma_halflife_s=120)
        for batch in batches:
            await sink.write(Batch(batch))
        await client.aclose()

    asyncio.run(run())


def test_script_matches_the_python_twin(redis_server, redis_client):
    data = records(400)
    write_all(redis_server.url, [data[i:i + 50] for i in range(0, len(data), 50)])
    twin = MemorySink(WINDOWS, ewma_halflife_s=120)
    asyncio.run(twin.write(Batch(data)))
    assert set(redis_client.zrange("fs:tickers", 0, -1)) == set(twin.tickers)
    for ticker, agg in twin.tickers.items():
        stored = redis_client.hgetall(f"fs:tk:{ticker}:agg")
        for key, value in agg.snapshot().items():
            assert float(stored[key]) == pytest.approx(value, abs=1e-9), (ticker, key)
        # each window keeps only its own buckets, one field each (a compact Redis hash)
        for window in WINDOWS:
            assert 0 < redis_client.hlen(f"fs:tk:{ticker}:buckets:{window.name}") <= window.buckets


def test_redelivery_changes_nothing(redis_server, redis_client):
    data = records(120, seed=5)
    write_all(redis_server.url, [data])
    before = snapshot(redis_client)
    write_all(redis_server.url, [data[60:], data[:60], data[10:20]])
    assert snapshot(redis_client) == before


def test_documents_and_ticker_keys_expire(redis_server, redis_client):
    data = records(5, seed=1)
    data[0] = data[0].derive(tickers=["AAPL"])
    write_all(redis_server.url, [data])
    doc = redis_client.hgetall("fs:doc:r0")
    assert doc["tickers"] == "AAPL" and doc["p_positive"] == "0.5" and doc["source"] == "test"
    assert 0 < redis_client.ttl("fs:doc:r0") <= 3600
    assert 3600 < redis_client.ttl("fs:tk:AAPL:agg") <= 7200
    assert 3600 < redis_client.ttl("fs:tk:AAPL:docs") <= 7200
