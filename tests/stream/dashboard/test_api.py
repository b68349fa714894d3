"""The JSON API against a real Redis holding data written by the real stream sink and alert engine."""
from __future__ import annotations

import asyncio
import time

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from stream.aggregates import Ewma, TickerAggregate
from stream.alerts.silences import SilenceStore
from stream.dashboard.app import create_app
from stream.dashboard.settings import DashboardSettings

from stream.dashboard.testing import record, scenario

pytestmark = pytest.mark.integration


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings, DashboardSettings())) as c:
        yield c


def test_tickers_match_the_stream_aggregates(client, publish, settings):
    records = scenario("AAPL", calm=40, shock=10, step_ms=10_000) + scenario("MSFT", calm=20, shock=0)
    publish(records)
    body = client.get("/api/tickers").json()
    assert body["windows"] == ["5m", "1h"]
    by_name = {t["ticker"]: t for t in body["tickers"]}
    assert set(by_name) == {"AAPL", "MSFT"}
    for name, got in by_name.items():  # the Python twin of the Redis script is the specification
        spec = TickerAggregate(settings.parsed_windows, Ewma.with_halflife(settings.ewma_halflife_s))
        for r in records:
            if name in r.tickers:
                spec.add(r.ts_ms, r.score, r.label)
        want = spec.snapshot()
        assert got["volume"] == want["5m:count"]
        assert got["mean"] == pytest.approx(want["5m:mean"])
        assert got["ewma"] == pytest.approx(want["ewma"])
        assert got["windows"]["1h"]["count"] == want["1h:count"]
        assert got["move"] == pytest.approx(want["5m:mean"] - want["1h:mean"])
    assert body["movers"][0]["ticker"] == "AAPL"  # the shocked ticker moved most


def test_series_is_bucketed_and_headlines_are_newest_first(client, publish):
    records = scenario("AAPL", calm=20, shock=5, step_ms=7000)
    publish(records)
    body = client.get("/api/tickers/aapl", params={"window": "5m", "headlines": 5}).json()
    assert body["ticker"] == "AAPL" and body["bucket_ms"] == 5000
    points = body["points"]
    in_window = [r for r in records if r.ts_ms // 5000 > records[-1].ts_ms // 5000 - 60]
    assert sum(p["count"] for p in points) == len(in_window)
    assert [p["t_ms"] for p in points] == sorted(p["t_ms"] for p in points)
    assert points[-1]["mean"] == pytest.approx(-0.8)
    assert [h["id"] for h in body["headlines"]] == [r.id for r in records[::-1][:5]]
    assert body["headlines"][0]["text"].startswith("AAPL headline")
    assert client.get("/api/tickers/AAPL", params={"window": "7m"}).status_code == 422
    assert client.get("/api/tickers/NOPE").status_code == 404


def test_alert_feed_by_state(client, publish):
    fired = publish(scenario("AAPL", calm=40, shock=15))
    assert {a["rule"] for a in fired} == {"ewma", "cusum"}
    feed = client.get("/api/alerts").json()
    assert {a["rule"] for a in feed["active"]} == {"ewma", "cusum"}
    assert [i["payload"]["id"] for i in feed["recent"]] == [a["id"] for a in fired[::-1]]
    assert feed["recent"][0]["payload"]["headlines"], "alerts carry evidence headlines"
    publish([record(f"calm-{i}", "AAPL", int(time.time() * 1000) + i, 0.3 * (-1) ** i) for i in range(40)])
    resolved = client.get("/api/alerts", params={"state": "resolved"}).json()
    assert resolved["active"] == [] and resolved["recent"]
    assert {i["payload"]["state"] for i in resolved["recent"]} == {"resolved"}
    assert client.get("/api/alerts", params={"ticker": "MSFT"}).json()["recent"] == []


def test_silences_create_list_expire(client, settings):
    made = client.post("/api/silences", json={"ticker": "aapl", "rule": "ewma", "duration": "30m",
                                              "comment": "earnings"})
    assert made.status_code == 201, made.text
    s = made.json()
    assert s["ticker"] == "AAPL" and s["active"] and 1790 < s["ends_at"] - s["starts_at"] <= 1800
    assert [x["id"] for x in client.get("/api/silences").json()] == [s["id"]]

    async def engine_view():  # the alert engine reads the same silence
        import redis.asyncio as aioredis

        async with aioredis.Redis.from_url(settings.redis_url) as r:
            return [x.id for x in await SilenceStore(r, cache_s=0).active()]

    assert asyncio.run(engine_view()) == [s["id"]]
    assert client.post(f"/api/silences/{s['id']}/expire").json()["active"] is False
    assert client.get("/api/silences").json() == []
    assert [x["id"] for x in client.get("/api/silences", params={"all": True}).json()] == [s["id"]]
    assert client.post("/api/silences/nope/expire").status_code == 404
    bad = client.post("/api/silences", json={"ticker": "AAPL", "duration": "soon"})
    assert bad.status_code == 422 and "duration" in bad.text
    assert client.post("/api/silences", json={"duration": "1h"}).status_code == 422  # neither ticker nor rule


def test_token_protects_api_but_not_the_page_shell(settings):
    locked = settings.model_copy(update={"api_token": SecretStr("s3cret")})
    with TestClient(create_app(locked, DashboardSettings())) as c:
        assert c.get("/api/tickers").status_code == 401
        assert c.get("/api/tickers", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/tickers", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/api/health", params={"token": "s3cret"}).status_code == 200
        assert c.get("/api/events", params={"token": "nope"}).status_code == 401
        page = c.get("/")
        assert page.status_code == 200 and "finsentry" in page.text and "s3cret" not in page.text
        assert c.get("/healthz").json() == {"status": "ok", "auth": True}


def test_openapi_documents_every_route(client):
    doc = client.get("/openapi.json").json()
    assert {"/api/tickers", "/api/tickers/{ticker}", "/api/alerts", "/api/silences",
            "/api/silences/{silence_id}/expire", "/api/health", "/api/events"} <= set(doc["paths"])
    assert "mean score" in doc["components"]["schemas"]["TickerSummary"]["properties"]["mean"]["description"]


def test_static_assets_are_small_and_local(client):
    total = 0
    for name in ("index.html", "app.js", "chart.js", "style.css"):
        res = client.get("/" if name == "index.html" else f"/static/{name}")
        assert res.status_code == 200
        assert "http://" not in res.text.replace("http://www.w3.org", "") and "https://" not in res.text
        total += len(res.content)
    assert total < 40_000
