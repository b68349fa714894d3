"""Dispatch from the Redis Stream to sinks; webhooks against a real HTTP server on loopback."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from aiohttp import web

from stream.alerts.config import WebhookConfig
from stream.alerts.dispatch import Dispatcher
from stream.alerts.engine import AlertEngine
from stream.alerts.sinks import DeliveryError, MemoryAlertSink, PermanentDeliveryError
from stream.alerts.webhook import WebhookSink

NOW = 1_800_000_000.0
STEP = [0.3, -0.3, 0.0, 0.2, -0.2] * 20 + [-0.8] * 20 + [0.3, -0.3, 0.0, 0.2, -0.2] * 30
ALERT = {"id": "fp-1-1", "fingerprint": "fp", "ticker": "AAPL", "state": "firing"}


@pytest.fixture
async def hook_server():
    """A webhook receiver whose responses the test scripts: a list of statuses, then 200s."""
    state = {"script": [], "got": []}

    async def receive(request: web.Request) -> web.Response:
        state["got"].append((dict(request.headers), await request.read()))
        status = state["script"].pop(0) if state["script"] else 200
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    state["url"] = f"http://127.0.0.1:{port}/hook"
    yield state
    await runner.cleanup()


def sink_for(url, **kw):
    sleeps = []

    async def no_sleep(s):
        sleeps.append(s)

    sink = WebhookSink(WebhookConfig(url=url, secret="topsecret", backoff_s=0.5, **kw), sleep=no_sleep)
    return sink, sleeps


async def test_webhook_retries_with_backoff_and_signs(hook_server):
    hook_server["script"] = [503, 500]
    sink, sleeps = sink_for(hook_server["url"])
    await sink.send(ALERT)
    await sink.close()
    assert sink.attempts == 3 and len(hook_server["got"]) == 3
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # exponential, jittered
    headers, body = hook_server["got"][-1]
    assert json.loads(body) == ALERT and headers["X-Finsentry-Delivery"] == "fp-1-1"
    expected = hmac.new(b"topsecret", headers["X-Finsentry-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Finsentry-Signature"] == f"sha256={expected}"


async def test_webhook_gives_up_and_refusals_are_final(hook_server):
    hook_server["script"] = [503, 503, 503]
    sink, _ = sink_for(hook_server["url"], max_attempts=3)
    with pytest.raises(DeliveryError, match="not delivered after 3 attempts; last error HTTP 503"):
        await sink.send(ALERT)
    hook_server["script"] = [400]
    with pytest.raises(PermanentDeliveryError, match="refused with HTTP 400"):
        await sink.send(ALERT)
    await sink.close()
    closed, _ = sink_for("http://127.0.0.1:9/hook", max_attempts=2)  # nothing listens on port 9
    with pytest.raises(DeliveryError, match="after 2 attempts"):
        await closed.send(ALERT)
    await closed.close()


@pytest.mark.integration
async def test_dispatch_delivers_each_alert_once_in_order_despite_failures(redis, small_config, articles):
    sink = MemoryAlertSink()
    dispatcher = Dispatcher(redis, small_config, sink, "w1", claim_idle_ms=0)
    await dispatcher.ensure_group()
    alerts = await AlertEngine(redis, small_config, clock=lambda: NOW).process(articles(STEP))
    sink.fail = 2
    assert await dispatcher.drain() == 0  # first try fails; nothing acked
    assert await dispatcher.drain() == 0
    assert await dispatcher.drain() == len(alerts)
    assert await dispatcher.drain() == 0
    assert [a["id"] for a in sink.alerts] == [a["id"] for a in alerts]
    # a second worker's dispatcher in the same group finds nothing left to send
    other = MemoryAlertSink()
    assert await Dispatcher(redis, small_config, other, "w2", claim_idle_ms=0).drain() == 0


@pytest.mark.integration
async def test_dispatch_to_webhook_and_dead_letters(redis, small_config, articles, hook_server):
    hook_server["script"] = [400]
    sink, _ = sink_for(hook_server["url"])
    dispatcher = Dispatcher(redis, small_config, sink, "w1")
    await dispatcher.ensure_group()
    alerts = await AlertEngine(redis, small_config, clock=lambda: NOW).process(articles(STEP))
    assert await dispatcher.drain() == len(alerts) - 1  # the refused one goes to the dead stream
    dead = await redis.xrange("fs:alerts:dead")
    assert len(dead) == 1 and b"HTTP 400" in dead[0][1][b"error"]
    await sink.close()


@pytest.mark.integration
async def test_a_dead_workers_pending_alerts_are_claimed(redis, small_config, articles):
    crashed = MemoryAlertSink()
    crashed.fail = 100
    first = Dispatcher(redis, small_config, crashed, "dead-worker", claim_idle_ms=0, max_deliveries=1000)
    await first.ensure_group()
    alerts = await AlertEngine(redis, small_config, clock=lambda: NOW).process(articles(STEP))
    await first.drain()  # reads entries into its pending list, then "crashes"
    survivor = MemoryAlertSink()
    survivor.name = crashed.name  # same sink, same group
    assert await Dispatcher(redis, small_config, survivor, "w2", claim_idle_ms=0).drain() == len(alerts)
    assert [a["id"] for a in survivor.alerts] == [a["id"] for a in alerts]
