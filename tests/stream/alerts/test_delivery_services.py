"""Alert delivery against real services: the Kafka sink through faust's producer to a tansu broker, the Redis
Stream read by an outside consumer group, and the pub/sub channel, all fed by the real engine."""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from stream.alerts.dispatch import Dispatcher
from stream.alerts.engine import AlertEngine
from stream.alerts.sinks import KafkaAlertSink
from stream.kafka_admin import create_topics

pytestmark = [pytest.mark.integration,  # kafka-python's admin client uses deprecated importlib.resources calls
              pytest.mark.filterwarnings("ignore:(read|open)_text is deprecated:DeprecationWarning")]
NOW = 1_800_000_000.0
STEP = [0.3, -0.3, 0.0, 0.2, -0.2] * 20 + [-0.8] * 20 + [0.3, -0.3, 0.0, 0.2, -0.2] * 30


@pytest.fixture
def alerts_topic(kafka):
    name = f"alerts-{uuid.uuid4().hex[:8]}"
    create_topics([name], partitions=2, bootstrap_servers=kafka.bootstrap)
    return name


@pytest.fixture
async def faust_topic(kafka, alerts_topic, tmp_path):
    """The topic object ``register_alert_agent`` builds (raw key and value), on a faust app whose producer
    talks to the real broker; the app itself is never started, exactly as a sink only needs the producer."""
    import faust

    app = faust.App(f"alerts-test-{uuid.uuid4().hex[:6]}", broker=f"kafka://{kafka.bootstrap}", autodiscover=False,
                    datadir=str(tmp_path / "faust"), producer_acks=-1, web_enabled=False)
    yield app.topic(alerts_topic, key_serializer="raw", value_serializer="raw")
    await app.producer.stop()


async def consume(bootstrap: str, topic: str, expected: int, timeout_s: float = 20.0) -> list:
    """Every record of ``topic`` from the start, waiting until ``expected`` arrived (then a little longer,
    so that a duplicate would be seen)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    got = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        settle = None
        while loop.time() < deadline and (settle is None or loop.time() < settle):
            batch = await consumer.getmany(timeout_ms=200)
            got += [r for records in batch.values() for r in records]
            if len(got) >= expected and settle is None:
                settle = loop.time() + 1.0
    finally:
        await consumer.stop()
    return got


async def test_kafka_sink_delivers_each_alert_once_keyed_by_fingerprint(kafka, alerts_topic, faust_topic, redis,
                                                                       small_config, articles):
    sink = KafkaAlertSink.for_faust(faust_topic)
    dispatcher = Dispatcher(redis, small_config, sink, "worker-1")
    await dispatcher.ensure_group()
    arts = articles(STEP)
    alerts = await AlertEngine(redis, small_config, clock=lambda: NOW).process(arts)
    assert len(alerts) == 4
    assert await dispatcher.drain() == 4
    # A restarted worker: the articles are redelivered to a new engine and a new dispatcher joins the same
    # group; neither adds anything to the topic.
    assert await AlertEngine(redis, small_config, clock=lambda: NOW).process(arts) == []
    assert await Dispatcher(redis, small_config, sink, "worker-1-restarted").drain() == 0

    records = await consume(kafka.bootstrap, alerts_topic, expected=4)
    payloads = [json.loads(r.value) for r in sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset))]
    assert sorted(p["id"] for p in payloads) == sorted(a["id"] for a in alerts)  # all, and no duplicates
    assert all(r.key == json.loads(r.value)["fingerprint"].encode() for r in records)
    by_fp: dict[str, list[str]] = {}
    for r in records:  # one fingerprint -> one partition, so firing comes before its resolve notice
        by_fp.setdefault(r.key, []).append((r.partition, r.offset, json.loads(r.value)["notice"]))
    for notices in by_fp.values():
        assert len({p for p, _, _ in notices}) == 1
        assert [n for _, _, n in sorted(notices)] == ["firing", "resolved"]
    assert payloads[0] == next(a for a in alerts if a["id"] == payloads[0]["id"])  # the payload unchanged


async def test_kafka_sink_retries_when_the_broker_is_down(redis, small_config, articles, tmp_path):
    """Nothing listens: the send fails, the alert stays pending (not acked, not dead) for the next round."""
    import faust

    from stream.embedded import free_port

    app = faust.App("alerts-down", broker=f"kafka://127.0.0.1:{free_port()}", autodiscover=False,
                    datadir=str(tmp_path / "faust"), web_enabled=False, producer_request_timeout=2,
                    broker_request_timeout=2)
    sink = KafkaAlertSink.for_faust(app.topic("alerts", key_serializer="raw", value_serializer="raw"))
    dispatcher = Dispatcher(redis, small_config, sink, "w1")
    await dispatcher.ensure_group()
    await AlertEngine(redis, small_config, clock=lambda: NOW).process(articles(STEP))
    try:
        assert await asyncio.wait_for(dispatcher.drain(), 30) == 0
    finally:
        await app.producer.stop()
    pending = await redis.xpending(small_config.stream_key, dispatcher.group)
    assert pending["pending"] >= 1 and await redis.xlen(f"{small_config.key_prefix}:dead") == 0


async def test_outside_consumer_groups_read_the_alert_stream(redis, small_config, articles):
    """Any service can follow alerts with its own consumer group on the Redis Stream (docs/operations.md)."""
    await redis.xgroup_create(small_config.stream_key, "pager", id="0", mkstream=True)
    alerts = await AlertEngine(redis, small_config, clock=lambda: NOW).process(articles(STEP))
    got = await redis.xreadgroup("pager", "pager-1", {small_config.stream_key: ">"}, count=100)
    entries = got[0][1]
    assert [json.loads(f[b"payload"])["id"] for _, f in entries] == [a["id"] for a in alerts]
    assert [f[b"state"].decode() for _, f in entries] == [a["state"] for a in alerts]
    assert [f[b"fingerprint"].decode() for _, f in entries] == [a["fingerprint"] for a in alerts]
    await redis.xack(small_config.stream_key, "pager", *[e for e, _ in entries])
    assert (await redis.xpending(small_config.stream_key, "pager"))["pending"] == 0
    assert await redis.xreadgroup("pager", "pager-2", {small_config.stream_key: ">"}, count=100) == []
