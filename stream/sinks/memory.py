"""An in-memory sink with the Redis sink's semantics, for tests and as its executable specification."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..aggregates import Ewma, TickerAggregate
from ..records import DeadLetter, ScoredRecord
from ..windows import Window
from .base import Batch


@dataclass
class MemorySink:
    windows: tuple[Window, ...]
    ewma_halflife_s: float = 3600.0
    name: str = "memory"
    docs: dict[str, ScoredRecord] = field(default_factory=dict)
    tickers: dict[str, TickerAggregate] = field(default_factory=dict)
    dead: list[DeadLetter] = field(default_factory=list)
    writes: int = 0
    duplicates: int = 0

    async def write(self, batch: Batch) -> None:
        self.writes += 1
        for record in batch.records:
            if record.id in self.docs:  # a redelivery changes nothing
                self.duplicates += 1
                continue
            self.docs[record.id] = record
            for ticker in record.tickers:
                agg = self.tickers.get(ticker)
                if agg is None:
                    agg = self.tickers[ticker] = TickerAggregate(self.windows, Ewma.with_halflife(self.ewma_halflife_s))
                agg.add(record.ts_ms, record.score, record.label)
        self.dead.extend(batch.dead)
