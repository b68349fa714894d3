"""The sink interface shared by the Redis, Kafka and in-memory sinks."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..records import DeadLetter, ScoredRecord


@dataclass(frozen=True)
class Batch:
    """What one micro-batch produced: scored records and dead letters."""

    records: list[ScoredRecord] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


class Sink(Protocol):
    name: str

    async def write(self, batch: Batch) -> None:
        """Write the whole batch or raise. Must be idempotent by message id: the same batch may come again."""
        ...
