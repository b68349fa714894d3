"""Prometheus metrics of one worker, in their own registry (several workers can live in one test process)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)

# The Prometheus text format; the charset goes separately (aiohttp rejects it inside content_type).
CONTENT_TYPE = "text/plain; version=0.0.4"


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.messages_in = Counter("finsentry_messages_in", "Input messages received", registry=r)
        self.messages_out = Counter("finsentry_messages_out", "Messages scored and written", registry=r)
        self.dead_lettered = Counter("finsentry_messages_dead_lettered", "Messages sent to the dead-letter topic",
                                     ["reason"], registry=r)
        self.duplicates = Counter("finsentry_duplicates", "Redelivered messages already in Redis (no change)",
                                  registry=r)
        self.batch_size = Histogram("finsentry_batch_size", "Messages per micro-batch", buckets=SIZE_BUCKETS,
                                    registry=r)
        self.inference = Histogram("finsentry_inference_seconds", "Model time per batch",
                                   buckets=LATENCY_BUCKETS, registry=r)
        self.e2e_latency = Histogram("finsentry_end_to_end_seconds",
                                     "Kafka timestamp of an input -> all its outputs written", buckets=LATENCY_BUCKETS,
                                     registry=r)
        self.redis_write = Histogram("finsentry_redis_write_seconds", "Redis pipeline time per batch",
                                     buckets=LATENCY_BUCKETS, registry=r)
        self.redis_errors = Counter("finsentry_redis_errors", "Failed Redis batch writes (each is retried)",
                                    registry=r)
        self.kafka_send = Histogram("finsentry_kafka_send_seconds", "Kafka send-and-acknowledge time per batch",
                                    ["sink"], buckets=LATENCY_BUCKETS, registry=r)
        self.kafka_errors = Counter("finsentry_kafka_errors", "Failed Kafka batch sends (each is retried)",
                                    ["sink"], registry=r)
        self.model_errors = Counter("finsentry_model_errors", "Failed inference calls (each is retried)",
                                    registry=r)
        self.model_info = Gauge("finsentry_model_info", "The model serving this worker (value 1)",
                                ["version"], registry=r)
        self.last_batch = Gauge("finsentry_last_batch_timestamp_seconds", "When the last batch completed",
                                registry=r)
        self.ready = Gauge("finsentry_ready", "1 once partitions are assigned and Redis answers", registry=r)
        self.alerts_emitted = Gauge("finsentry_alerts_emitted", "Alert notifications this worker committed "
                                    "since it started (0 with alerts off)", registry=r)
        self.alert_bad_records = Gauge("finsentry_alert_bad_records", "By-ticker records the alert agent "
                                       "skipped as malformed since start", registry=r)

    def observe_write(self, sink: str, seconds: float) -> None:
        if sink == "redis":
            self.redis_write.observe(seconds)
        else:
            self.kafka_send.labels(sink=sink).observe(seconds)

    def write_failed(self, sink: str) -> None:
        if sink == "redis":
            self.redis_errors.inc()
        else:
            self.kafka_errors.labels(sink=sink).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
