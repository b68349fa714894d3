"""N messages in, N scored out, Redis holds N documents and the right aggregates; bad messages go to the DLQ."""
from __future__ import annotations

import json

import pytest

from stream.aggregates import Ewma, TickerAggregate
from stream.testing import consume, news, wait_until
from stream.windows import parse_windows

pytestmark = pytest.mark.integration

BAD = [  # (value, reason)
    (b"\xff\xfe not utf-8", "not_utf8"),
    (b'{"headline": "unterminated', "invalid_json"),
    (b'{"headline": "   "}', "empty_text"),
    (json.dumps({"headline": "x" * 3000}).encode(), "text_too_long"),
    (b'{"headline": 42}', "wrong_type"),
    (b'{"headline": "fine", "tickers": "AAPL"}', "wrong_type"),
    (b'["a", "list"]', "wrong_type"),
]


def test_n_in_n_out_with_dead_letters(kafka, topics, producer, redis_client, start_worker):
    n = 300
    worker = start_worker(alerts_enabled=True)
    bad_at = {}
    for i in range(n):
        producer.send(topics["input_topic"], news(i))
        if i % 40 == 20:  # malformed messages between valid ones
            value, reason = BAD[len(bad_at) % len(BAD)]
            bad_at[len(bad_at)] = reason
            producer.send(topics["input_topic"], value)
    producer.send(topics["input_topic"], news(7))  # a redelivered id: changes nothing in Redis
    producer.flush()

    wait_until(lambda: worker.metric("finsentry_messages_out_total") >= n + 1, 60, "all messages scored")
    scored = consume(kafka.bootstrap, topics["output_topic"], n + 1)
    assert len(scored) == n + 1
    records = {}
    for message in scored:
        record = json.loads(message.value)
        assert message.key.decode() == record["id"]
        assert set(record) >= {"id", "ts", "tickers", "label", "probabilities", "score", "model_version",
                               "latency_ms"}
        records[record["id"]] = record
    assert len(records) == n

    # Redis: one document per id, and aggregates equal to the Python twin's over the scored records.
    assert len(redis_client.keys("fs:doc:*")) == n
    doc = redis_client.hgetall("fs:doc:n000007")
    assert doc["label"] == records["n000007"]["label"] and doc["tickers"] == "MSFT"
    assert worker.metric("finsentry_duplicates_total") == 1
    windows = parse_windows(("5m", "1h", "1d"))
    expected: dict[str, TickerAggregate] = {}
    for record in records.values():
        for ticker in record["tickers"]:
            agg = expected.setdefault(ticker, TickerAggregate(windows, Ewma.with_halflife(3600)))
            agg.add(record["ts_ms"], record["score"], record["label"])
    assert set(redis_client.zrange("fs:tickers", 0, -1)) == {"AAPL", "MSFT", "TSLA"}
    for ticker, agg in expected.items():
        stored = redis_client.hgetall(f"fs:tk:{ticker}:agg")
        for key, value in agg.snapshot().items():
            assert float(stored[key]) == pytest.approx(value, abs=1e-9), (ticker, key)
        assert redis_client.zcard(f"fs:tk:{ticker}:docs") == n // 3

    # Dead letters: the original bytes, the reason, and where they came from.
    dead = consume(kafka.bootstrap, topics["dlq_topic"], len(bad_at))
    assert len(dead) == len(bad_at)
    reasons = []
    for message in dead:
        headers = {k: v.decode() for k, v in message.headers}
        assert headers["finsentry-source-topic"] == topics["input_topic"]
        assert int(headers["finsentry-source-offset"]) >= 0
        assert message.value in {value for value, _ in BAD}
        reasons.append(headers["finsentry-reason"])
    assert sorted(reasons) == sorted(bad_at.values())

    # Per-ticker scores for the alerts agent, keyed by ticker, batched: one record per ticker and batch.
    by_ticker = consume(kafka.bootstrap, topics["by_ticker_topic"], n + 1,
                        size=lambda m: len(json.loads(m.value)["scores"]))
    assert all(json.loads(m.value)["ticker"] == m.key.decode() for m in by_ticker)
    scores = [(m.key.decode(), s["id"]) for m in by_ticker for s in json.loads(m.value)["scores"]]
    assert len(scores) == n + 1 and len(set(scores)) == n  # every (ticker, item), n000007 twice (sent twice)
    assert len(by_ticker) < len(scores)  # fewer Kafka records than scores
