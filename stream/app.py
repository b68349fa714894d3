"""The faust worker: a thin agent over ``BatchPipeline`` plus /metrics, /healthz and /readyz.

At-least-once: ``take_events`` acknowledges a batch's events when the agent asks for the next batch, so the
agent only moves on after ``BatchPipeline.run`` has written every sink (it retries failures with backoff).
If the worker stops while a batch still fails, the batch is abandoned: its offsets are never committed and
the partition's next owner gets the messages again.
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from typing import Any, Iterable

import faust

from .clients import async_redis, faust_broker_options
from .faust_kafka import install as install_fetch_wait
from .metrics import CONTENT_TYPE, Metrics
from .pipeline import BatchPipeline
from .records import RawMessage
from .retry import Abandoned, Backoff
from .scoring import Inference, ScoreMany
from .settings import Settings
from .sinks.kafka import DeadLetterSink, ScoredSink
from .sinks.redis import RedisSink
from .tickers import TickerExtractor
from .validation import Validator

log = logging.getLogger(__name__)


def raw_message(message: Any) -> RawMessage:
    return RawMessage(value=message.value, key=message.key, topic=message.topic, partition=message.partition,
                      offset=message.offset, timestamp_ms=int(message.timestamp * 1000))


def abandon(events: Iterable[Any]) -> None:
    """Keep the consumer from committing these events' offsets. ``take_events`` acks every event it yielded
    once its generator is closed, error or not; a message already flagged as acked is skipped by the consumer
    (its offset is never added to the committable set), so the batch is redelivered after a restart or
    rebalance instead of being lost."""
    for event in events:
        event.message.acked = True


class FaustPublisher:
    """``Publisher`` over the faust app's producer: raw bytes in, delivery future out. Sends go straight to the
    producer (the worker declares its output topics at startup), skipping faust's per-message channel layer."""

    def __init__(self, app: faust.App):
        self.app = app
        self._topics: dict[str, Any] = {}

    def topic(self, name: str):
        if name not in self._topics:
            self._topics[name] = self.app.topic(name, key_serializer="raw", value_serializer="raw")
        return self._topics[name]

    async def send(self, topic: str, key: bytes | None, value: bytes | None, headers=None):
        return await self.app.producer.send(topic, key, value, None, None, headers)


class Worker:
    def __init__(self, settings: Settings, score_many: ScoreMany, model_version: str):
        self.settings = s = settings
        self.metrics = Metrics()
        self.started = time.time()
        self.assigned = False
        self._datadir = tempfile.mkdtemp(prefix="finsentry-faust-")  # faust wants one; no state is kept there
        self.app = faust.App(
            s.group_id, **faust_broker_options(s), autodiscover=False, datadir=self._datadir,
            broker_session_timeout=s.broker_session_timeout_s, broker_heartbeat_interval=s.broker_heartbeat_interval_s,
            topic_partitions=s.topic_partitions, topic_replication_factor=s.topic_replication,
            consumer_auto_offset_reset="earliest", producer_acks=-1, stream_wait_empty=True,
            web_enabled=True, web_port=s.metrics_port, web_bind=s.metrics_host,
            web_router_enabled=False, web_tables_enabled=False, web_stats_enabled=False, web_graph_enabled=False)
        install_fetch_wait(self.app, s.kafka_fetch_max_wait_ms)
        self.redis = async_redis(s)
        self.publisher = FaustPublisher(self.app)
        self.inference = Inference(score_many)
        sinks = [
            RedisSink(self.redis, s.parsed_windows, doc_ttl_s=s.doc_ttl_s, ticker_ttl_s=s.ticker_ttl_s,
                      retention_s=s.ticker_retention_s, ewma_halflife_s=s.ewma_halflife_s,
                      on_result=lambda written, dups: self.metrics.duplicates.inc(dups)),
            ScoredSink(self.publisher, s.output_topic, s.by_ticker_topic if s.alerts_active else None),
            DeadLetterSink(self.publisher, s.dlq_topic),
        ]
        validator = Validator(TickerExtractor.from_file(s.symbols_file, s.max_tickers), s.max_message_bytes,
                              s.max_text_chars)
        self.pipeline = BatchPipeline(validator, self.inference, model_version, sinks,
                                      Backoff(s.retry_initial_s, s.retry_max_s), self.metrics,
                                      chunk=s.infer_batch_size)
        self.alerts = self._register_alerts() if s.alerts_active else None
        self._wire()

    def _register_alerts(self):
        """The shift-alert agent (``stream.alerts``) on the by-ticker topic, sharing this worker's Redis client."""
        from .alerts.agent import register_alert_agent

        s = self.settings
        # the agent batches with the settings' max_batch/max_wait_s: give it its own
        agent_settings = s.model_copy(update={"max_batch": s.alerts_max_batch, "max_wait_s": s.alerts_max_wait_s})
        runtime = register_alert_agent(self.app, agent_settings, redis=self.redis)
        self.metrics.alerts_emitted.set_function(lambda: runtime.emitted)
        self.metrics.alert_bad_records.set_function(lambda: runtime.bad_records)

        @self.app.on_before_shutdown.connect
        async def close_alerts(sender, **kwargs) -> None:
            await runtime.close()

        return runtime

    def _wire(self) -> None:
        app, s = self.app, self.settings
        source = app.topic(s.input_topic, key_serializer="raw", value_serializer="raw")
        outputs = [s.output_topic, s.dlq_topic] + ([s.by_ticker_topic, s.alerts_topic] if s.alerts_active else [])

        @app.agent(source, name="finsentry.score", concurrency=1)
        async def score(stream):
            giving_up = False  # once a batch is abandoned, every later one is too (their offsets follow it)
            async for events in stream.take_events(s.max_batch, within=s.max_wait_s):
                if giving_up:
                    abandon(events)  # drains the in-memory queue so that faust's shutdown does not wait on it
                    continue
                try:
                    await self.pipeline.run([raw_message(e.message) for e in events], lambda: app.should_stop)
                except Abandoned as exc:
                    abandon(events)
                    giving_up = True
                    log.warning("%s; %d messages left uncommitted for redelivery", exc, len(events))
                except Exception as exc:
                    abandon(events)
                    giving_up = True
                    log.critical("unexpected error in batch processing; stopping the worker so that the "
                                 "batch is redelivered", exc_info=exc)
                    await app.crash(exc)
                except BaseException:
                    abandon(events)  # cancelled mid-batch: redelivered after the restart
                    raise

        @app.task
        async def declare_outputs() -> None:
            for name in outputs:
                try:
                    await self.publisher.topic(name).maybe_declare()
                except Exception as exc:  # e.g. no CreateTopics permission: the topics may be managed elsewhere
                    log.warning("could not declare topic %s (%s: %s); assuming it exists", name,
                                type(exc).__name__, exc)

        @app.on_partitions_assigned.connect
        async def on_assigned(sender, assigned, **kwargs) -> None:
            self.assigned = True
            log.info("assigned %d partitions: %s", len(assigned), sorted(f"{tp.topic}/{tp.partition}"
                                                                         for tp in assigned))

        @app.page("/metrics")
        async def metrics(web, request):
            return web.bytes(self.metrics.exposition(), content_type=CONTENT_TYPE)

        @app.page("/healthz")
        async def healthz(web, request):
            return web.json({"status": "ok", "uptime_s": round(time.time() - self.started, 1)})

        @app.page("/readyz")
        async def readyz(web, request):
            problems = [] if self.assigned else ["no partition assignment yet"]
            try:
                await asyncio.wait_for(self.redis.ping(), timeout=1.0)
            except Exception as exc:  # report, never raise, from a probe
                problems.append(f"redis unreachable: {type(exc).__name__}")
            self.metrics.ready.set(0 if problems else 1)
            return web.json({"ready": not problems, "problems": problems}, status=503 if problems else 200)

    def run(self) -> None:
        """Run until SIGINT/SIGTERM (blocking); exits the process with faust's status."""
        log.info("finsentry worker starting with settings %s", self.settings.redacted())
        worker = faust.Worker(self.app, loglevel=self.settings.log_level.lower(), quiet=True)
        # faust's terminal spinner sets the root logger to DEBUG so that it can spin on every record: every
        # aiokafka debug call per message would then build a log record (tens of microseconds each).
        worker.spinner = None
        try:
            worker.execute_from_commandline()
        finally:
            self.inference.close()
            shutil.rmtree(self._datadir, ignore_errors=True)
