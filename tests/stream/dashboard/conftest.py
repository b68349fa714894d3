"""Fixtures for the dashboard tests: a real Redis, and a ``publish`` that writes through the real stream sink
and alert engine (``stream.dashboard.testing``)."""
from __future__ import annotations

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stream.dashboard.testing import Publisher
from stream.metrics import Metrics
from stream.settings import Settings


@pytest.fixture(scope="session")
def dash_redis():
    from stream.embedded import EmbeddedRedis

    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def settings(dash_redis):
    import redis

    with redis.Redis.from_url(dash_redis.url) as client:
        client.flushdb()
    return Settings(redis_url=dash_redis.url, windows=("5m", "1h"), ewma_halflife_s=600)


@pytest.fixture
def publish(settings):
    """``publish(records)`` writes through the real sink and alert engine (in its own event loop)."""
    pub = Publisher(settings.redis_url, settings)
    loop = asyncio.new_event_loop()
    yield lambda records: loop.run_until_complete(pub.publish(records))
    loop.run_until_complete(pub.close())
    loop.close()


@pytest.fixture
def worker_http():
    """A worker's /metrics and /readyz served from a real ``stream.metrics.Metrics``."""
    metrics = Metrics()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = metrics.exposition() if self.path == "/metrics" else b'{"ready": true}'
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", metrics
    server.shutdown()
    server.server_close()
