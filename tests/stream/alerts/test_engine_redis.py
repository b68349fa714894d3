"""Engine + Redis: one alert per episode across redelivery, restart and two workers; silences; pub/sub."""
from __future__ import annotations

import asyncio
import json

import pytest

from stream.alerts.engine import AlertEngine
from stream.alerts.silences import Silence, SilenceStore

pytestmark = pytest.mark.integration
NOW = 1_800_000_000.0
STEP = [0.3, -0.3, 0.0, 0.2, -0.2] * 20 + [-0.8] * 20 + [0.3, -0.3, 0.0, 0.2, -0.2] * 30


def kinds(alerts):
    return sorted((a["rule"], a["notice"]) for a in alerts)


EXPECTED = [("cusum", "firing"), ("cusum", "resolved"), ("ewma", "firing"), ("ewma", "resolved")]


async def stream_entries(redis):
    return [json.loads(f[b"payload"]) for _, f in await redis.xrange("fs:alerts:stream")]


async def test_redelivered_batches_change_nothing(redis, small_config, articles):
    engine = AlertEngine(redis, small_config, clock=lambda: NOW)
    arts, alerts = articles(STEP), []
    for i in range(0, len(arts), 7):
        alerts += await engine.process(arts[i:i + 7])
        alerts += await engine.process(arts[max(0, i - 10):i + 7])  # at-least-once: overlap redelivered
    assert kinds(alerts) == EXPECTED
    assert kinds(await stream_entries(redis)) == EXPECTED
    assert engine.applied == len(arts)


async def test_restart_continues_where_it_stopped(redis, small_config, articles):
    arts = articles(STEP)
    first = await AlertEngine(redis, small_config, clock=lambda: NOW).process(arts[:110])
    second = await AlertEngine(redis, small_config, clock=lambda: NOW).process(arts)  # a new process replays all
    assert kinds(first + second) == EXPECTED


async def test_two_workers_racing_on_the_same_ticker_emit_each_alert_once(redis_service, small_config, articles):
    import redis.asyncio as aioredis

    clients = [aioredis.Redis.from_url(redis_service.url) for _ in range(2)]
    await clients[0].flushdb()
    engines = [AlertEngine(c, small_config, clock=lambda: NOW) for c in clients]
    arts, alerts = articles(STEP), []
    for i in range(0, len(arts), 5):  # both workers get every batch (a rebalance gone wrong, at worst)
        got = await asyncio.gather(*(e.process(arts[i:i + 5]) for e in engines))
        alerts += got[0] + got[1]
    assert kinds(alerts) == EXPECTED
    assert kinds(await stream_entries(clients[0])) == EXPECTED
    assert sum(e.applied for e in engines) == len(arts)
    active = await engines[0].store.active_alerts()
    assert active == []  # both episodes resolved
    for c in clients:
        await c.aclose()


async def test_silences_suppress_then_expire(redis, small_config, articles):
    clock = {"now": NOW}
    engine = AlertEngine(redis, small_config, clock=lambda: clock["now"])
    store = SilenceStore(redis, cache_s=0)
    silence = await store.add(Silence.create(ticker="aapl", rule=None, duration_s=3600, now=NOW))
    arts = articles(STEP)
    assert await engine.process(arts[:115]) == []  # firing, but muted
    assert {a["rule"] for a in await engine.store.active_alerts()} == set()
    await store.expire(silence.id, now=NOW + 1)
    clock["now"] = NOW + 2
    late = await engine.process(arts[115:117])
    assert sorted((a["rule"], a["notice"]) for a in late) == [("cusum", "firing"), ("ewma", "firing")]
    assert {a["rule"] for a in await engine.store.active_alerts()} == {"ewma", "cusum"}
    assert [s.id for s in await store.list(now=NOW + 2)] == []
    assert [s.id for s in await store.list(now=NOW + 2, include_expired=True)] == [silence.id]


async def test_silences_run_out_on_their_own(redis, small_config, articles):
    clock = {"now": NOW}
    engine = AlertEngine(redis, small_config, clock=lambda: clock["now"])
    await SilenceStore(redis, cache_s=0).add(Silence.create(ticker=None, rule="ewma", duration_s=60, now=NOW))
    arts = articles(STEP)
    assert kinds(await engine.process(arts[:115])) == [("cusum", "firing")]  # ewma muted, cusum not
    clock["now"] = NOW + 61  # the silence ended; no one expired it
    assert kinds(await engine.process(arts[115:117])) == [("ewma", "firing")]


async def test_an_alert_silenced_while_firing_still_resolves(redis, small_config, articles):
    """Silencing a firing alert mutes it, but its end is still announced (and it leaves the active set)."""
    engine = AlertEngine(redis, small_config, clock=lambda: NOW)
    arts = articles(STEP)
    assert kinds(await engine.process(arts[:115])) == [("cusum", "firing"), ("ewma", "firing")]
    await SilenceStore(redis, cache_s=0).add(Silence.create(ticker="AAPL", rule=None, duration_s=3600, now=NOW))
    assert kinds(await engine.process(arts[115:])) == [("cusum", "resolved"), ("ewma", "resolved")]
    assert await engine.store.active_alerts() == []


async def test_live_listeners_get_alerts_over_pubsub(redis, small_config, articles):
    pubsub = redis.pubsub()
    await pubsub.subscribe("fs:alerts:live")
    await pubsub.get_message(timeout=1)  # subscribe confirmation
    alerts = await AlertEngine(redis, small_config, clock=lambda: NOW).process(articles(STEP))
    received = []
    for _ in range(len(alerts)):
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
        received.append(json.loads(msg["data"]))
    assert [a["id"] for a in received] == [a["id"] for a in alerts]
    await pubsub.aclose()


async def test_runtime_reads_batched_and_single_records_and_skips_only_bad_scores(redis, small_config):
    from stream.alerts.agent import AlertRuntime

    runtime = AlertRuntime(redis, small_config, sinks=[])
    score = {"ts_ms": 1_800_000_000_000, "score": 0.2, "label": "positive", "model_version": "v",
             "confidence": 0.8, "headline": "h"}
    batch = {"ticker": "AAPL", "scores": [{**score, "id": "a"}, {**score, "id": "b", "score": 7},
                                          {**score, "id": "c"}]}
    single = {**score, "id": "d", "ticker": "MSFT"}
    await runtime.handle([json.dumps(batch).encode(), single, b"not json", {"ticker": "X", "scores": 3}])
    assert runtime.engine.applied == 3  # a, c (AAPL) and d (MSFT)
    assert runtime.bad_records == 3  # the score of 7, the bytes that are not JSON, scores that are not a list
