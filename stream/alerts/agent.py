"""Faust wiring for the alerts: a thin agent over ``AlertEngine`` plus one dispatcher task per sink.

The stream worker calls ``register_alert_agent(app, settings)`` when alerts are enabled. The agent
consumes ``settings.by_ticker_topic`` (JSON records keyed by ticker, so one worker owns each
ticker), and everything it decides lives in Redis, so a restart or rebalance continues where the
previous owner stopped and a redelivered record changes nothing.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from typing import Any

from stream.alerts.article import BadRecord, articles_from_record, score_records
from stream.alerts.config import AlertConfig
from stream.alerts.dispatch import Dispatcher
from stream.alerts.engine import AlertEngine
from stream.alerts.sinks import AlertSink, KafkaAlertSink
from stream.alerts.webhook import WebhookSink

log = logging.getLogger(__name__)
MAX_ARTICLES_PER_PASS = 4096


def config_from_settings(settings: Any) -> AlertConfig:
    """The alert config embedded in the settings (field ``alerts``) or the defaults, reading the
    by-ticker topic name from the settings."""
    config = getattr(settings, "alerts", None) or AlertConfig()
    topic = getattr(settings, "by_ticker_topic", None)
    return config.model_copy(update={"input_topic": topic}) if topic else config


def redis_from_settings(settings: Any) -> Any:
    """The worker's asyncio Redis client (same options as every other stream component)."""
    from stream.clients import async_redis

    return async_redis(settings)


class AlertRuntime:
    """What the agent and tasks share: the engine, the dispatchers, counters for metrics."""

    def __init__(self, redis: Any, config: AlertConfig, sinks: list[AlertSink]) -> None:
        self.redis, self.config = redis, config
        self.engine = AlertEngine(redis, config)
        consumer = f"{socket.gethostname()}-{os.getpid()}"
        self.dispatchers = [Dispatcher(redis, config, sink, consumer) for sink in sinks]
        self.bad_records = 0
        self.emitted = 0
        self.stop = asyncio.Event()
        self._started = False

    async def handle(self, records: list[Any]) -> list[dict]:
        """Apply one batch of by-ticker records (``TickerScores`` or single ``TickerScore`` values, as dicts or
        JSON bytes); returns the alerts emitted. ``bad_records`` counts the scores skipped as malformed."""
        await self.start()
        articles = []
        for rec in records:
            try:
                value = json.loads(rec) if isinstance(rec, (bytes, str)) else rec
                value = value.asdict() if hasattr(value, "asdict") else value
                items = score_records(value)
            except (BadRecord, ValueError) as exc:
                self.bad_records += 1
                log.warning("alerts: skipping a record: %s", exc)
                continue
            for item in items:  # one bad score in a batch costs that score only
                try:
                    articles += articles_from_record(item)
                except BadRecord as exc:
                    self.bad_records += 1
                    log.warning("alerts: skipping a score: %s", exc)
        alerts = []
        for i in range(0, len(articles), MAX_ARTICLES_PER_PASS):  # bounded Redis pipelines and state in memory
            alerts += await self.engine.process(articles[i:i + MAX_ARTICLES_PER_PASS])
        self.emitted += len(alerts)
        return alerts

    async def start(self) -> None:
        """Create the sinks' consumer groups before the first alert can be written."""
        if not self._started:
            for d in self.dispatchers:
                await d.ensure_group()
            self._started = True

    async def run_dispatchers(self) -> None:
        await asyncio.gather(*(d.run(self.stop) for d in self.dispatchers))

    async def close(self) -> None:
        self.stop.set()
        for d in self.dispatchers:
            await d.sink.close()


def register_alert_agent(app: Any, settings: Any, config: AlertConfig | None = None, *,
                         redis: Any = None, sinks: list[AlertSink] | None = None) -> AlertRuntime:
    """Add the detection agent and the dispatcher task to a faust ``app``; returns the runtime."""
    config = config or config_from_settings(settings)
    redis = redis if redis is not None else redis_from_settings(settings)
    if sinks is None:
        alerts_topic = app.topic(settings.alerts_topic, key_serializer="raw", value_serializer="raw")
        sinks = [KafkaAlertSink.for_faust(alerts_topic)] + [WebhookSink(w) for w in config.webhooks]
    runtime = AlertRuntime(redis, config, sinks)
    source = app.topic(config.input_topic, key_serializer="raw", value_serializer="json")
    batch = getattr(settings, "max_batch", 256)
    within = getattr(settings, "max_wait_s", 0.1)

    @app.agent(source, name="finsentry-alerts")
    async def detect_shifts(stream: Any) -> None:
        async for records in stream.take(batch, within=within):
            await runtime.handle(records)

    @app.task
    async def dispatch_alerts() -> None:
        await runtime.start()
        await runtime.run_dispatchers()

    runtime.agent = detect_shifts
    return runtime
