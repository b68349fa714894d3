"""The scored article as the alert agents see it, parsed from a ``news.by_ticker`` record.

Workers publish one ``TickerScores`` record per ticker and batch, ``{"ticker": T, "scores": [...]}``
(``score_records`` unpacks it); a single ``TickerScore`` (one score, as older workers wrote it) is read too, so
a rolling upgrade never strands records on the topic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from stream.alerts.errors import AlertError

HEADLINE_CHARS = 280


class BadRecord(AlertError, ValueError):
    """A record on the by-ticker topic lacks a field the detectors need."""


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    ts: float            # event time, epoch seconds
    ticker: str
    score: float         # P(positive) - P(negative), in [-1, 1]
    confidence: float    # the winning class probability (1.0 when probs are absent)
    label: str
    model_version: str
    headline: str


def score_records(value: Any) -> list[Any]:
    """The single-score records inside one by-ticker value: each element of a ``TickerScores`` batch, with the
    batch's ticker; any other value is returned as it is (``articles_from_record`` judges it).

    >>> score_records({"ticker": "AAPL", "scores": [{"id": "a"}, {"id": "b"}]})
    [{'id': 'a', 'ticker': 'AAPL'}, {'id': 'b', 'ticker': 'AAPL'}]
    """
    if isinstance(value, dict) and "scores" in value:
        scores, ticker = value["scores"], value.get("ticker")
        if not isinstance(scores, list):
            raise BadRecord(f"expected scores as a list of score objects, got {type(scores).__name__}")
        return [{**item, "ticker": ticker} if isinstance(item, dict) else item for item in scores]
    return [value]


def articles_from_record(record: dict[str, Any], key: str | bytes | None = None) -> list[Article]:
    """One article per ticker the record is about.

    Re-keyed records carry ``ticker``; otherwise the message key, then the ``tickers`` list, is used.
    Event time is ``ts`` or ``ts_ms`` (epoch ms); confidence is ``confidence`` or the largest of
    ``probs``; the headline is ``headline``, ``title`` or ``text`` (all optional but useful evidence).

    >>> rec = {"id": "n1", "ts": 1700000000000, "ticker": "aapl", "label": "negative",
    ...        "probs": {"negative": 0.7, "neutral": 0.2, "positive": 0.1}, "score": -0.6,
    ...        "model_version": "bilstm-1", "headline": "Apple recalls chargers"}
    >>> a, = articles_from_record(rec)
    >>> a.ticker, a.ts, a.confidence, a.score
    ('AAPL', 1700000000.0, 0.7, -0.6)
    """
    if not isinstance(record, dict):
        raise BadRecord(f"expected a JSON object, got {type(record).__name__}")
    ts = record.get("ts", record.get("ts_ms"))
    missing = [f for f, v in (("id", record.get("id")), ("ts", ts), ("score", record.get("score"))) if v is None]
    if missing:
        raise BadRecord(f"record {record.get('id')!r}: expected fields id, ts (or ts_ms), score; "
                        f"missing {', '.join(missing)}")
    score = record["score"]
    if not isinstance(score, (int, float)) or not math.isfinite(score) or not -1.0 <= score <= 1.0:
        raise BadRecord(f"record {record['id']!r}: expected score in [-1, 1], got {score!r}")
    if not isinstance(ts, (int, float)) or not math.isfinite(ts):
        raise BadRecord(f"record {record['id']!r}: expected ts as epoch milliseconds, got {ts!r}")
    if record.get("ticker"):
        tickers = [record["ticker"]]
    elif key:
        tickers = [key.decode() if isinstance(key, bytes) else key]
    else:
        tickers = list(record.get("tickers") or [])
    if not tickers:
        raise BadRecord(f"record {record['id']!r}: expected a ticker, a message key or a tickers list")
    probs = record.get("probs") or {}
    confidence = record.get("confidence") or (max(probs.values()) if probs else 1.0)
    headline = str(record.get("headline") or record.get("title") or record.get("text") or "")[:HEADLINE_CHARS]
    return [Article(id=str(record["id"]), ts=float(ts) / 1000.0, ticker=t,
                    score=float(score), confidence=float(confidence), label=str(record.get("label", "")),
                    model_version=str(record.get("model_version", "")), headline=headline)
            for t in dict.fromkeys(str(t).strip().upper() for t in tickers)]
