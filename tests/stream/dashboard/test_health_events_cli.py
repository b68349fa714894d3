"""Worker scraping, server-sent events, the bind check and the ``finsentry dashboard`` entrypoint."""
from __future__ import annotations

import json
import pytest

from stream.cli import main as stream_main
from stream.dashboard.health import HealthMonitor, expand
from stream.dashboard.settings import check_bind, load_dashboard_settings
from stream.errors import ConfigError


class FakeRedis:
    async def ping(self):
        return True


async def test_health_turns_worker_counters_into_rates(worker_http):
    url, metrics = worker_http
    metrics.model_info.labels(version="bilstm-abc").set(1)
    monitor = HealthMonitor((url, "http://127.0.0.1:9"), 1.0, FakeRedis())
    first = await monitor.check()
    assert first.workers[0].up and first.workers[0].ready and first.workers[0].model_version == "bilstm-abc"
    assert first.workers[0].messages_per_s is None  # one scrape gives no rate yet
    assert not first.workers[1].up and first.workers[1].error
    metrics.messages_in.inc(100)
    metrics.messages_out.inc(90)
    metrics.dead_lettered.labels(reason="invalid_json").inc(10)
    for _ in range(4):
        metrics.e2e_latency.observe(0.25)
    second = await monitor.check()
    w = second.workers[0]
    assert w.messages_per_s > 0 and w.dead_letter_rate == pytest.approx(0.1)
    assert w.batch_latency_s == pytest.approx(0.25)
    assert second.messages_per_s == w.messages_per_s and second.redis
    await monitor.close()


async def test_dns_worker_urls_expand_to_every_address(worker_http):
    url, metrics = worker_http
    port = url.rsplit(":", 1)[1]
    assert "http://127.0.0.1:9100" in await expand("dns+http://localhost:9100")
    assert await expand("dns+http://no-such-worker.invalid:9100") == []
    assert await expand("http://anything:1") == ["http://anything:1"]  # without dns+, taken as it is
    monitor = HealthMonitor((f"dns+http://127.0.0.1:{port}", "dns+http://worker-gpu.invalid:9100"), 1.0, FakeRedis())
    health = await monitor.check()
    assert [(w.url, w.up, w.ready) for w in health.workers] == [(url, True, True)] and health.note is None
    monitor.workers = ("dns+http://no-such-worker.invalid:9100",)  # every replica gone
    health = await monitor.check()
    assert health.workers == [] and health.note.startswith("no workers found") and monitor._prev == {}
    await monitor.close()


async def test_health_without_workers_explains_the_setting():
    monitor = HealthMonitor((), 1.0, FakeRedis())
    health = await monitor.check()
    assert health.workers == [] and "FINSENTRY_DASHBOARD_WORKERS" in health.note
    await monitor.close()


@pytest.mark.integration
async def test_events_stream_tickers_then_new_alerts(settings):
    import redis.asyncio as aioredis

    from stream.dashboard.alerts import AlertQueries
    from stream.dashboard.events import live_events
    from stream.dashboard.queries import TickerQueries
    from stream.dashboard.testing import FAST_RULES, Publisher, scenario

    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    calls = {"n": 0}

    async def disconnected():
        calls["n"] += 1
        return calls["n"] > 2

    frames = []
    gen = live_events(TickerQueries(redis, settings.parsed_windows, max_tickers=10, movers=3),
                      AlertQueries(redis, FAST_RULES), HealthMonitor((), 1.0, redis), refresh_s=0.01,
                      disconnected=disconnected, last_alert_id="0-0")
    publisher = Publisher(settings.redis_url, settings)
    await publisher.publish(scenario("AAPL", calm=40, shock=15))
    await publisher.close()
    async for frame in gen:
        frames.append(frame)
    events = [f.split("\n")[1 if f.startswith("id:") else 0] for f in frames if "event:" in f]
    assert events[:2] == ["event: tickers", "event: alert"] and "event: health" in events
    alert = next(f for f in frames if "event: alert" in f)
    assert json.loads(alert.split("data: ", 1)[1])["payload"]["state"] == "firing"
    await redis.aclose()


def test_bind_needs_a_token_beyond_loopback():
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_bind(host, has_token=False)
    check_bind("0.0.0.0", has_token=True)
    with pytest.raises(ConfigError, match="FINSENTRY_API_TOKEN"):
        check_bind("0.0.0.0", has_token=False)


def test_dashboard_command_refuses_public_bind_without_token(capsys, monkeypatch):
    monkeypatch.delenv("FINSENTRY_API_TOKEN", raising=False)
    assert stream_main("dashboard", ["--host", "0.0.0.0", "--port", "8081"]) == 2
    assert "without an API token" in capsys.readouterr().err


def test_dashboard_settings_from_environment_and_flags():
    env = {"FINSENTRY_DASHBOARD_WORKERS": "http://a:9100/, http://b:9100", "FINSENTRY_DASHBOARD_PORT": "9000"}
    dash = load_dashboard_settings({"port": 8081}, environ=env)
    assert dash.workers == ("http://a:9100", "http://b:9100") and dash.port == 8081 and dash.host == "127.0.0.1"
    with pytest.raises(ConfigError, match="worker URLs"):
        load_dashboard_settings(environ={"FINSENTRY_DASHBOARD_WORKERS": "a:9100"})
    dash = load_dashboard_settings({"workers": "dns+http://worker:9100"}, environ=env)  # the flag wins
    assert dash.workers == ("dns+http://worker:9100",)
