"""Fixtures for the alert tests: article factories, and a real Redis for the integration tests."""
from __future__ import annotations

import pytest

from stream.alerts.article import Article
from stream.alerts.config import AlertConfig

T0 = 1_700_000_000.0


def make_articles(scores, *, ticker="AAPL", start=0, dt=60.0, t0=T0, version="bilstm-test", prefix="n"):
    return [Article(id=f"{prefix}{start + i}", ts=t0 + (start + i) * dt, ticker=ticker, score=float(s),
                    confidence=1.0, label="", model_version=version, headline=f"{ticker} headline {start + i}")
            for i, s in enumerate(scores)]


@pytest.fixture
def articles():
    return make_articles


@pytest.fixture
def small_config():
    """Fast-reacting rules so that short fixed streams exercise the whole lifecycle."""
    return AlertConfig(
        ewma={"min_articles": 10, "lag": 5, "sigma_floor": 0.1, "lam": 0.3, "limit": 3.0, "for_articles": 1},
        cusum={"min_articles": 10, "lag": 5, "sigma_floor": 0.1, "h": 5.0, "clear": 1.0, "for_articles": 1},
        volume={"enabled": False},
        silence_cache_s=0.0,
    )


@pytest.fixture(scope="session")
def redis_service():
    from stream.embedded import EmbeddedRedis

    server = EmbeddedRedis()
    server.start()
    yield server
    server.close()


@pytest.fixture
async def redis(redis_service):
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_service.url)
    await client.flushdb()
    yield client
    await client.aclose()
