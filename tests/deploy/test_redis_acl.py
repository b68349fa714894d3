"""The Redis ACL lines of docs/operations.md, applied to a real Redis: the workers' and the dashboard's calls
succeed under them, and the dashboard cannot write anything but silences."""
from __future__ import annotations

import asyncio
import re
import shlex
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
pytestmark = pytest.mark.integration


def documented_users() -> dict[str, list[str]]:
    """``{user: ACL SETUSER arguments}`` from the indented ``ACL SETUSER`` lines of the doc."""
    found = {}
    for line in re.findall(r"^ {4}(ACL SETUSER .+)$", DOC.read_text(), re.MULTILINE):
        words = shlex.split(line)
        found[words[2]] = words[2:]
    return found


@pytest.fixture(scope="module")
def acl_redis():
    """An embedded Redis with the documented users, their passwords set to the user names."""
    import redis

    from stream.embedded import EmbeddedRedis

    users = documented_users()
    assert {"finsentry", "finsentry-dashboard"} <= set(users), "the doc gives both users"
    with EmbeddedRedis() as server:
        with redis.Redis.from_url(server.url) as admin:
            for name, args in users.items():
                admin.execute_command("ACL", "SETUSER", *[f">{name}" if a.startswith(">") else a for a in args])
        yield server


def user_url(server, user: str) -> str:
    return server.url.replace("redis://", f"redis://{user}:{user}@")


def test_worker_user_runs_the_sink_the_alert_engine_and_dispatch(acl_redis):
    from stream.alerts.dispatch import Dispatcher
    from stream.alerts.sinks import MemoryAlertSink
    from stream.dashboard.testing import FAST_RULES, Publisher, scenario
    from stream.settings import Settings

    async def run() -> None:
        url = user_url(acl_redis, "finsentry")
        pub = Publisher(url, Settings(redis_url=url, windows=("5m", "1h")))
        sink = MemoryAlertSink()
        dispatcher = Dispatcher(pub.client, FAST_RULES, sink, "w1", claim_idle_ms=0)
        await dispatcher.ensure_group()
        pubsub = pub.client.pubsub()
        await pubsub.subscribe(FAST_RULES.channel)
        alerts = await pub.publish(scenario("AAPL", calm=40, shock=15))
        assert alerts and await dispatcher.drain() == len(alerts)
        assert [a["id"] for a in sink.alerts] == [a["id"] for a in alerts]
        assert await pub.client.ping()
        await pubsub.aclose()
        await pub.close()

    asyncio.run(run())


def test_dashboard_user_reads_everything_and_writes_only_silences(acl_redis):
    import redis
    from fastapi.testclient import TestClient

    from stream.dashboard.app import create_app
    from stream.dashboard.settings import DashboardSettings
    from stream.settings import Settings

    settings = Settings(redis_url=acl_redis.url, redis_username="finsentry-dashboard",
                        redis_password="finsentry-dashboard", windows=("5m", "1h"))
    with TestClient(create_app(settings, DashboardSettings())) as client:
        assert client.get("/api/tickers").status_code == 200
        assert client.get("/api/tickers/AAPL").status_code in (200, 404)
        assert client.get("/api/alerts").status_code == 200
        assert client.get("/api/health").json()["redis"] is True
        made = client.post("/api/silences", json={"ticker": "AAPL", "duration": "30m"})
        assert made.status_code == 201, made.text
        assert client.post(f"/api/silences/{made.json()['id']}/expire").status_code == 200
        assert client.get("/api/silences", params={"all": True}).status_code == 200
    with redis.Redis.from_url(user_url(acl_redis, "finsentry-dashboard")) as r:
        for command in (("SET", "fs:x", "1"), ("DEL", "fs:tickers"), ("XADD", "fs:alerts:stream", "*", "a", "b"),
                        ("GET", "other:key"), ("FLUSHDB",)):
            with pytest.raises(redis.exceptions.NoPermissionError):
                r.execute_command(*command)
