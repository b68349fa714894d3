"""Dashboard test data written the way a worker writes it: scored records through the real Redis sink, and the
by-ticker records through the real alert engine (never hand-made keys). Used by the tests and handy for a demo."""
from __future__ import annotations

import json
import time

from stream.alerts.article import articles_from_record, score_records
from stream.alerts.config import AlertConfig
from stream.alerts.engine import AlertEngine
from stream.records import ScoredRecord, iso_ms, ticker_batch_values
from stream.settings import Settings
from stream.sinks.base import Batch
from stream.sinks.redis import RedisSink

# Fast-reacting rules, so that a short burst of negative news fires an alert and a short calm spell resolves it.
FAST_RULES = AlertConfig(
    ewma={"min_articles": 10, "lag": 5, "sigma_floor": 0.1, "lam": 0.3, "limit": 3.0, "for_articles": 1,
          "keep_firing_for": 0},
    cusum={"min_articles": 10, "lag": 5, "sigma_floor": 0.1, "h": 5.0, "clear": 1.0, "for_articles": 1,
           "keep_firing_for": 0},
    volume={"enabled": False}, silence_cache_s=0.0)
CALM = [0.3, -0.3, 0.0, 0.2, -0.2]


def label_of(score: float) -> str:
    return "positive" if score > 0.25 else "negative" if score < -0.25 else "neutral"


def record(doc_id: str, ticker: str, ts_ms: int, score: float, text: str | None = None) -> ScoredRecord:
    p_pos, p_neg = max(score, 0.0), max(-score, 0.0)
    return ScoredRecord(id=doc_id, ts=iso_ms(ts_ms), ts_ms=ts_ms, tickers=[ticker], label=label_of(score),
                        probabilities={"negative": p_neg, "neutral": 1 - p_pos - p_neg, "positive": p_pos},
                        score=score, model_version="bilstm-test", latency_ms=12.5,
                        text=text or f"{ticker} headline {doc_id} scored {score:+.2f}", source="test")


class Publisher:
    """What a worker with alerts enabled does with a batch: the Redis sink, then the alert agent's engine
    fed with the by-ticker records the Kafka sink would publish."""

    def __init__(self, redis_url: str, settings: Settings):
        import redis.asyncio as aioredis

        self.client = aioredis.Redis.from_url(redis_url)
        s = settings
        self.sink = RedisSink(self.client, s.parsed_windows, doc_ttl_s=s.doc_ttl_s, ticker_ttl_s=s.ticker_ttl_s,
                              retention_s=s.ticker_retention_s, ewma_halflife_s=s.ewma_halflife_s)
        self.engine = AlertEngine(self.client, FAST_RULES)
        self.alerts: list[dict] = []

    async def publish(self, records: list[ScoredRecord]) -> list[dict]:
        await self.sink.write(Batch(records=records))
        # the by-ticker records a worker publishes, read the way the alert agent reads them
        articles = [a for _, value in ticker_batch_values(records) for item in score_records(json.loads(value))
                    for a in articles_from_record(item)]
        alerts = await self.engine.process(articles)
        self.alerts += alerts
        return alerts

    async def close(self) -> None:
        await self.client.aclose()


def scenario(ticker: str = "AAPL", calm: int = 40, shock: int = 15, end_ms: int | None = None,
             step_ms: int = 2000, shock_score: float = -0.8) -> list[ScoredRecord]:
    """``calm`` articles around 0, then ``shock`` strongly negative ones, ending at ``end_ms`` (default now)."""
    scores = [CALM[i % len(CALM)] for i in range(calm)] + [shock_score] * shock
    end_ms = end_ms or int(time.time() * 1000)
    start = end_ms - (len(scores) - 1) * step_ms
    return [record(f"{ticker}-{i}", ticker, start + i * step_ms, s) for i, s in enumerate(scores)]
