"""Failures mid-stream: a worker SIGKILLed, Redis down and back empty, a worker stopped during an outage."""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from stream.testing import consume, news, wait_until

pytestmark = pytest.mark.integration


def produce_steadily(producer, topic: str, ids: range, per_s: float) -> threading.Thread:
    def run() -> None:
        start = time.monotonic()
        for k, i in enumerate(ids):
            producer.send(topic, news(i))
            delay = start + (k + 1) / per_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        producer.flush()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def assert_exactly_once_in_redis(redis_client, ids) -> None:
    """Every id has one document, and every ticker aggregate counts each document once."""
    ids = list(ids)
    assert len(redis_client.keys("fs:doc:*")) == len(ids)
    per_ticker = Counter(["AAPL", "MSFT", "TSLA"][i % 3] for i in ids)
    for ticker, count in per_ticker.items():
        assert redis_client.zcard(f"fs:tk:{ticker}:docs") == count
        assert int(redis_client.hget(f"fs:tk:{ticker}:agg", "1d:count")) == count


def test_sigkill_one_of_two_workers(kafka, topics, producer, redis_client, start_worker):
    total = 3000
    first, second = start_worker(), start_worker()
    feeder = produce_steadily(producer, topics["input_topic"], range(total), per_s=500)
    wait_until(lambda: second.metric("finsentry_messages_out_total") > 0 and
               first.metric("finsentry_messages_out_total") > 0, 30, "both workers scoring")
    second.kill()  # SIGKILL: no commit, no leave-group; the group notices after the session timeout
    feeder.join(30)
    wait_until(lambda: len(redis_client.keys("fs:doc:*")) >= total, 90, "the survivor to finish the stream")
    time.sleep(1.0)  # let any redeliveries land: they must change nothing
    assert_exactly_once_in_redis(redis_client, range(total))
    scored = {m.key for m in consume(kafka.bootstrap, topics["output_topic"], total)}
    assert len(scored) == total


def test_redis_outage_then_empty_restart(kafka, topics, producer, redis_server, redis_client, start_worker):
    worker = start_worker()
    for i in range(200):
        producer.send(topics["input_topic"], news(i))
    producer.flush()
    wait_until(lambda: len(redis_client.keys("fs:doc:*")) == 200, 30, "the first 200 documents")

    redis_server.stop()
    for i in range(200, 400):  # arrive while Redis is down: not acknowledged until written
        producer.send(topics["input_topic"], news(i))
    producer.flush()
    wait_until(lambda: worker.metric("finsentry_redis_errors_total") > 0, 15, "failed Redis writes")
    assert worker.get("/readyz")[0] == 503
    time.sleep(4)
    assert worker.proc.poll() is None and worker.get("/healthz")[0] == 200

    redis_server.start()  # back, empty: the first 200 documents are gone with it, the rest must arrive
    for i in range(400, 500):
        producer.send(topics["input_topic"], news(i))
    producer.flush()
    wait_until(lambda: len(redis_client.keys("fs:doc:*")) >= 300, 60, "processing to resume")
    time.sleep(1.0)
    assert_exactly_once_in_redis(redis_client, range(200, 500))
    assert len({m.key for m in consume(kafka.bootstrap, topics["output_topic"], 500)}) == 500


def test_stop_during_outage_commits_nothing_unwritten(kafka, topics, producer, redis_server, redis_client,
                                                      start_worker):
    worker = start_worker(alerts_enabled=False)  # the scoring path alone (the other tests run the alerts too)
    redis_server.stop()
    for i in range(600):  # several batches queued in the worker behind the failing one
        producer.send(topics["input_topic"], news(i))
    producer.flush()
    wait_until(lambda: worker.metric("finsentry_redis_errors_total") > 0, 15, "failed Redis writes")
    started = time.monotonic()
    assert worker.stop(timeout_s=20) == 0  # SIGTERM: abandons the failing batch instead of hanging
    assert time.monotonic() - started < 15

    redis_server.start()
    start_worker(alerts_enabled=False)  # same group: resumes from the last committed offset
    wait_until(lambda: len(redis_client.keys("fs:doc:*")) >= 600, 60, "the next worker to write everything")
    assert_exactly_once_in_redis(redis_client, range(600))
    assert not consume(kafka.bootstrap, topics["by_ticker_topic"], 1, timeout_s=2)  # alerts off: nothing forwarded
