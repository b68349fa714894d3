"""Fixtures for stream tests: a tiny real model, and (for integration tests) real tansu and Redis."""
from __future__ import annotations

import itertools
import uuid

import pytest

from stream.embedded import EmbeddedKafka, EmbeddedRedis
from stream.kafka_admin import create_topics
from stream.worker_process import WorkerProcess

_counter = itertools.count()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    from models.testing import make_tiny_artifact

    return make_tiny_artifact(tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture(scope="session")
def keyword_model(tmp_path_factory):
    """A real artifact that scores by keywords (``stream.testing.make_keyword_artifact``)."""
    from stream.testing import make_keyword_artifact

    return make_keyword_artifact(tmp_path_factory.mktemp("model") / "keywords")


@pytest.fixture(scope="session")
def kafka():
    with EmbeddedKafka() as server:
        yield server


@pytest.fixture
def redis_server():
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def redis_client(redis_server):
    import redis

    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def topics(kafka):
    """Unique topic names (input, scored, dlq, by_ticker, alerts, group) for one test; input has 4 partitions."""
    tag = f"t{next(_counter)}-{uuid.uuid4().hex[:6]}"
    names = {"input_topic": f"news-{tag}", "output_topic": f"scored-{tag}", "dlq_topic": f"dlq-{tag}",
             "by_ticker_topic": f"byticker-{tag}", "alerts_topic": f"alerts-{tag}", "group_id": f"g-{tag}"}
    create_topics([names["input_topic"]], partitions=4, bootstrap_servers=kafka.bootstrap)
    create_topics([names["output_topic"], names["dlq_topic"], names["by_ticker_topic"], names["alerts_topic"]],
                  partitions=2, bootstrap_servers=kafka.bootstrap)
    return names


@pytest.fixture
def producer(kafka):
    from kafka import KafkaProducer

    prod = KafkaProducer(bootstrap_servers=kafka.bootstrap, linger_ms=5)
    yield prod
    prod.close()


@pytest.fixture
def start_worker(kafka, redis_server, tiny_model, topics, tmp_path):
    """``start_worker(**settings)`` -> a ready worker subprocess on this test's topics; all stopped at teardown."""
    workers: list[WorkerProcess] = []

    def start(wait: bool = True, **overrides) -> WorkerProcess:
        settings = dict(kafka_bootstrap=kafka.bootstrap, redis_url=redis_server.url, model_dir=tiny_model,
                        device="cpu", broker_session_timeout_s=6, broker_heartbeat_interval_s=1,
                        max_batch=64, max_wait_s=0.05, retry_initial_s=0.1, retry_max_s=1.0,
                        log_level="WARNING", **topics)
        settings.update(overrides)
        worker = WorkerProcess(tmp_path / f"worker{len(workers)}.log", **settings).start()
        workers.append(worker)
        return worker.wait_ready() if wait else worker

    yield start
    for worker in workers:
        worker.stop(timeout_s=15)
