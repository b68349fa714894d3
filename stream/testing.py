"""Helpers for tests and benchmarks of stream code against real services (see tests/stream/conftest.py)."""
from __future__ import annotations

import json
import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout_s: float, what: str, interval_s: float = 0.2) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def consume(bootstrap: str, topic: str, expected: int, timeout_s: float = 30.0) -> list:
    """All records of ``topic`` from the start, once at least ``expected`` have arrived (or on timeout)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=1000, group_id=None)
    records, deadline = [], time.monotonic() + timeout_s
    try:
        while len(records) < expected and time.monotonic() < deadline:
            records.extend(consumer)
        return records
    finally:
        consumer.close()


def news(i: int, **extra) -> bytes:
    """A valid input message with id ``n000042``, one ticker (AAPL, MSFT, TSLA in turn), 1 s apart."""
    ticker = ["AAPL", "MSFT", "TSLA"][i % 3]
    body = {"id": f"n{i:06d}", "ts": 1_700_000_000_000 + i * 1000, "headline": f"${ticker} headline number {i}",
            **extra}
    return json.dumps(body).encode()
