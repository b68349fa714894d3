"""Kafka sinks: scored records (and per-ticker scores) and dead letters. A write returns only when the broker
has acknowledged every send, so offsets are never committed ahead of the outputs."""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Protocol

from ..records import DeadLetter, ticker_batch_values
from .base import Batch

HEADER_PREFIX = "finsentry-"
MAX_DETAIL_BYTES = 1024


class Publisher(Protocol):
    async def send(self, topic: str, key: bytes | None, value: bytes | None,
                   headers: list[tuple[str, bytes]] | None = None) -> Awaitable[Any]:
        """Queue one record; the returned awaitable resolves when the broker acknowledged it."""
        ...


class ScoredSink:
    """Scored records to the output topic (key: id) and, when ``by_ticker_topic`` is set, each ticker's scores
    of the batch to that topic as ``TickerScores`` records (key: ticker; ``records.ticker_batch_values``)."""

    name = "kafka"

    def __init__(self, publisher: Publisher, output_topic: str, by_ticker_topic: str | None = None):
        self.publisher = publisher
        self.output_topic = output_topic
        self.by_ticker_topic = by_ticker_topic

    async def write(self, batch: Batch) -> None:
        pending = []
        for record in batch.records:
            pending.append(await self.publisher.send(self.output_topic, record.id.encode(), record.to_json()))
        if self.by_ticker_topic:
            for key, value in ticker_batch_values(batch.records):
                pending.append(await self.publisher.send(self.by_ticker_topic, key, value))
        await asyncio.gather(*pending)


def dead_letter_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    raw = letter.raw
    return [(HEADER_PREFIX + name, str(value).encode()[:MAX_DETAIL_BYTES]) for name, value in (
        ("reason", letter.reason.value), ("detail", letter.detail), ("source-topic", raw.topic),
        ("source-partition", raw.partition), ("source-offset", raw.offset),
        ("source-timestamp", raw.timestamp_ms))]


class DeadLetterSink:
    """The original key and value bytes, unchanged, with the reason and source position in headers."""

    name = "dlq"

    def __init__(self, publisher: Publisher, dlq_topic: str):
        self.publisher = publisher
        self.dlq_topic = dlq_topic

    async def write(self, batch: Batch) -> None:
        pending = [await self.publisher.send(self.dlq_topic, letter.raw.key, letter.raw.value,
                                             dead_letter_headers(letter)) for letter in batch.dead]
        await asyncio.gather(*pending)
