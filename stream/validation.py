"""Input contract (docs/messages.md): raw Kafka bytes -> ``NewsItem`` or ``DeadLetter`` with a reason.

A value whose first non-blank character is ``{`` or ``[`` must be a JSON object; any other UTF-8 value is
the headline itself. A missing id becomes a stable hash of source, ts and text; a missing ts becomes the
Kafka timestamp; tickers come from the field, else from cashtags and aliases in the text.
"""
from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime, timezone
from typing import Any, Callable

from .errors import InvalidMessage
from .records import DeadLetter, NewsItem, RawMessage, Reason
from .tickers import normalize_ticker

MAX_ID_CHARS = 256
_MAX_TS_MS = 32_503_680_000_000  # year 3000: larger numbers are not epoch milliseconds


def stable_id(source: str | None, ts_ms: int, text: str) -> str:
    """The id of a message that has none: equal inputs give equal ids in every worker and every run."""
    digest = hashlib.blake2b(f"{source or ''}\x1f{ts_ms}\x1f{text}".encode(), digest_size=16)
    return digest.hexdigest()


def parse_ts(value: Any) -> int:
    """ISO-8601 (naive means UTC) or epoch milliseconds (number or digit string) -> epoch milliseconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidMessage(Reason.WRONG_TYPE, f"ts: expected ISO-8601 string or epoch milliseconds, got "
                                                f"{type(value).__name__}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidMessage(Reason.WRONG_TYPE, f"ts: expected ISO-8601 or epoch milliseconds, got "
                                                    f"{value[:40]!r}") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return int(round(dt.timestamp() * 1000))
    if not math.isfinite(value) or not 0 <= value < _MAX_TS_MS:
        raise InvalidMessage(Reason.WRONG_TYPE, f"ts: expected epoch milliseconds between 0 and year 3000, "
                                                f"got {value!r}")
    return int(value)


class Validator:
    def __init__(self, extract_tickers: Callable[[str], tuple[str, ...]], max_message_bytes: int = 65_536,
                 max_text_chars: int = 2_000):
        self.extract_tickers = extract_tickers
        self.max_message_bytes = max_message_bytes
        self.max_text_chars = max_text_chars

    def __call__(self, raw: RawMessage) -> NewsItem | DeadLetter:
        try:
            return self._parse(raw)
        except InvalidMessage as exc:
            return DeadLetter(raw, Reason(exc.reason), exc.detail)

    def _parse(self, raw: RawMessage) -> NewsItem:
        value = raw.value
        if value is None:
            raise InvalidMessage(Reason.EMPTY_TEXT, "value is null (a tombstone); expected JSON or text")
        if len(value) > self.max_message_bytes:
            raise InvalidMessage(Reason.MESSAGE_TOO_LARGE, f"value is {len(value)} bytes; the limit is "
                                                           f"{self.max_message_bytes}")
        try:
            decoded = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidMessage(Reason.NOT_UTF8, f"expected UTF-8; {exc.reason} at byte {exc.start}") from None
        body = decoded.lstrip()
        fields = self._json_fields(body) if body[:1] in ("{", "[") else {"text": decoded}
        return self._item(fields, raw)

    @staticmethod
    def _json_fields(body: str) -> dict:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise InvalidMessage(Reason.INVALID_JSON, f"{exc}") from None
        if not isinstance(data, dict):
            raise InvalidMessage(Reason.WRONG_TYPE, f"expected a JSON object, got {type(data).__name__}")
        return data

    def _item(self, fields: dict, raw: RawMessage) -> NewsItem:
        text = fields.get("text", fields.get("headline"))
        if text is None:
            raise InvalidMessage(Reason.EMPTY_TEXT, "no 'text' or 'headline' field")
        if not isinstance(text, str):
            raise InvalidMessage(Reason.WRONG_TYPE, f"text: expected string, got {type(text).__name__}")
        text = text.strip()
        if not text:
            raise InvalidMessage(Reason.EMPTY_TEXT, "text is empty or blank")
        if len(text) > self.max_text_chars:
            raise InvalidMessage(Reason.TEXT_TOO_LONG, f"text has {len(text)} characters; the limit is "
                                                       f"{self.max_text_chars}")
        source = fields.get("source")
        if source is not None and not isinstance(source, str):
            raise InvalidMessage(Reason.WRONG_TYPE, f"source: expected string or null, got {type(source).__name__}")
        ts = fields.get("ts")
        ts_ms = raw.timestamp_ms if ts is None else parse_ts(ts)
        return NewsItem(id=self._id(fields.get("id"), source, ts_ms, text), ts_ms=ts_ms, text=text,
                        tickers=self._tickers(fields.get("tickers"), text), source=source, raw=raw)

    @staticmethod
    def _id(value: Any, source: str | None, ts_ms: int, text: str) -> str:
        if value is None:
            return stable_id(source, ts_ms, text)
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS:
            shown = type(value).__name__ if not isinstance(value, str) else f"{len(value)} characters"
            raise InvalidMessage(Reason.WRONG_TYPE, f"id: expected a non-empty string of at most "
                                                    f"{MAX_ID_CHARS} characters, got {shown}")
        return value.strip()

    def _tickers(self, value: Any, text: str) -> tuple[str, ...]:
        if value is None:
            return self.extract_tickers(text)
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise InvalidMessage(Reason.WRONG_TYPE, f"tickers: expected a list of strings, got {value!r:.60}")
        tickers = []
        for item in value:
            ticker = normalize_ticker(item)
            if ticker is None:
                raise InvalidMessage(Reason.WRONG_TYPE, f"tickers: expected symbols like 'AAPL' or 'BRK.B', "
                                                        f"got {item!r:.20}")
            tickers.append(ticker)
        return tuple(dict.fromkeys(tickers))
