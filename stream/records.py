"""The records that cross module and process boundaries.

``RawMessage`` (what arrived), ``NewsItem`` (a validated input), ``DeadLetter`` (a rejected input) are plain
frozen dataclasses used inside a worker. ``ScoredRecord`` (topic ``news.scored``) and ``TickerScore`` (topic
``news.by_ticker``, keyed by ticker, batched per ticker by ``ticker_batch_values``) are the published contract:
faust records serialised as plain JSON without faust metadata, so any Kafka client can read them (JSON Schemas
in ``stream/schemas/``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import ClassVar, Dict, List, Optional

import faust


class Reason(str, Enum):
    """Why a message went to the dead-letter topic (header ``finsentry-reason``)."""

    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    WRONG_TYPE = "wrong_type"
    EMPTY_TEXT = "empty_text"
    TEXT_TOO_LONG = "text_too_long"
    MESSAGE_TOO_LARGE = "message_too_large"
    MODEL_ERROR = "model_error"


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One Kafka record as received, independent of the client library."""

    value: Optional[bytes]
    key: Optional[bytes]
    topic: str
    partition: int
    offset: int
    timestamp_ms: int  # the Kafka record timestamp (producer create time)


@dataclass(frozen=True, slots=True)
class NewsItem:
    """A valid input message, normalised: ids and timestamps filled in, tickers extracted."""

    id: str
    ts_ms: int
    text: str
    tickers: tuple[str, ...]
    source: Optional[str]
    raw: RawMessage


@dataclass(frozen=True, slots=True)
class DeadLetter:
    raw: RawMessage
    reason: Reason
    detail: str


def iso_ms(ts_ms: int) -> str:
    """``1700000000123`` -> ``'2023-11-14T22:13:20.123Z'``."""
    dt = datetime.fromtimestamp(ts_ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"


class ScoredRecord(faust.Record, serializer="json", include_metadata=False):
    """One scored news item, published to the output topic keyed by ``id``."""

    id: str
    ts: str  # event time, ISO-8601 UTC
    ts_ms: int  # event time, epoch milliseconds
    tickers: List[str]
    label: str
    probabilities: Dict[str, float]
    score: float  # P(positive) - P(negative), in [-1, 1]
    model_version: str
    latency_ms: float  # Kafka timestamp of the input -> scored
    text: str
    source: Optional[str] = None

    def to_json(self) -> bytes:
        return json.dumps(self.asdict(), separators=(",", ":"), ensure_ascii=False).encode()


class TickerScore(faust.Record, serializer="json", include_metadata=False):
    """One (ticker, scored item) pair, published to ``news.by_ticker`` keyed by ``ticker``, so one consumer
    sees all of a ticker's scores on one partition. At-least-once: a redelivery may repeat an ``id``.

    It carries what the shift alerts need (``stream.alerts.article``): the score and the winning class's
    probability (``confidence``, for confidence weighting) and the headline (evidence in alert payloads)."""

    ticker: str
    id: str
    ts_ms: int
    score: float
    label: str
    model_version: str
    confidence: float = 1.0  # probability of ``label``
    headline: str = ""  # the first HEADLINE_CHARS characters of the text

    HEADLINE_CHARS: ClassVar[int] = 280

    @classmethod
    def for_ticker(cls, record: ScoredRecord, ticker: str) -> "TickerScore":
        return cls(ticker=ticker, id=record.id, ts_ms=record.ts_ms, score=record.score, label=record.label,
                   confidence=float(record.probabilities.get(record.label, max(record.probabilities.values(),
                                                                                 default=1.0))),
                   model_version=record.model_version, headline=record.text[:cls.HEADLINE_CHARS])

    def to_json(self) -> bytes:
        return json.dumps(self.asdict(), separators=(",", ":"), ensure_ascii=False).encode()


def _shared_json(record: ScoredRecord) -> str:
    """The ``TickerScore`` JSON of ``record`` without its ``ticker`` field."""
    one = TickerScore.for_ticker(record, "")
    return json.dumps({k: v for k, v in one.asdict().items() if k != "ticker"}, separators=(",", ":"),
                      ensure_ascii=False)


MAX_SCORES_PER_RECORD = 256  # keeps a by-ticker record far below Kafka's default 1 MB message limit


def ticker_batch_values(records: list[ScoredRecord], max_scores: int = MAX_SCORES_PER_RECORD
                        ) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs for ``news.by_ticker``: per ticker, one ``TickerScores`` record
    ``{"ticker": T, "scores": [...]}`` holding that ticker's ``TickerScore`` fields (without ``ticker``) in
    the order of ``records``, at most ``max_scores`` per record. One record per ticker and batch instead of
    one per (item, ticker): a batch mentions far fewer tickers than it has items, and every Kafka record
    costs a send, a fetch and a decode however small it is.

    >>> r = ScoredRecord(id="a", ts=iso_ms(0), ts_ms=0, tickers=["AAPL", "MSFT"], label="neutral",
    ...                  probabilities={"neutral": 1.0}, score=0.0, model_version="v", latency_ms=1.0, text="t")
    >>> [(k, json.loads(v)["ticker"], len(json.loads(v)["scores"])) for k, v in ticker_batch_values([r, r])]
    [(b'AAPL', 'AAPL', 2), (b'MSFT', 'MSFT', 2)]
    """
    if max_scores < 1:
        raise ValueError(f"max_scores must be >= 1, got {max_scores}")
    per_ticker: dict[str, list[str]] = {}
    for record in records:
        if record.tickers:
            shared = _shared_json(record)
            for t in record.tickers:
                per_ticker.setdefault(t, []).append(shared)
    out = []
    for t, scores in per_ticker.items():
        key, head = t.encode(), f'{{"ticker":{json.dumps(t)},"scores":['
        for i in range(0, len(scores), max_scores):
            out.append((key, (head + ",".join(scores[i:i + max_scores]) + "]}").encode()))
    return out
