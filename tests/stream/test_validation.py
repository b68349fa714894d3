import json

import pytest

from stream.records import DeadLetter, NewsItem, RawMessage, Reason
from stream.tickers import TickerExtractor
from stream.validation import Validator, parse_ts, stable_id

KAFKA_TS = 1_700_000_000_000


def raw(value: bytes | None, offset: int = 5) -> RawMessage:
    return RawMessage(value=value, key=b"k", topic="news", partition=2, offset=offset, timestamp_ms=KAFKA_TS)


@pytest.fixture
def validate():
    return Validator(TickerExtractor({"AAPL": ("Apple",)}), max_message_bytes=1024, max_text_chars=100)


def test_full_json_message(validate):
    item = validate(raw(json.dumps({"id": "a1", "ts": "2024-03-01T12:00:00Z", "text": " Apple up ",
                                    "tickers": ["$msft", "aapl"], "source": "wire"}).encode()))
    assert isinstance(item, NewsItem)
    assert (item.id, item.ts_ms, item.text, item.tickers, item.source) == (
        "a1", 1_709_294_400_000, "Apple up", ("MSFT", "AAPL"), "wire")


def test_plain_text_gets_kafka_ts_stable_id_and_extracted_tickers(validate):
    item = validate(raw("Apple beats; $TSLA slips".encode()))
    assert item.ts_ms == KAFKA_TS and item.tickers == ("AAPL", "TSLA") and item.source is None
    assert item.id == stable_id(None, KAFKA_TS, "Apple beats; $TSLA slips")
    assert validate(raw(b"Apple beats; $TSLA slips", offset=99)).id == item.id  # same content, same id


def test_stable_id_depends_on_source_ts_and_text():
    ids = {stable_id(None, 1, "a"), stable_id("x", 1, "a"), stable_id(None, 2, "a"), stable_id(None, 1, "b")}
    assert len(ids) == 4


def test_headline_field_and_text_precedence(validate):
    assert validate(raw(b'{"headline": "h"}')).text == "h"
    assert validate(raw(b'{"headline": "h", "text": "t"}')).text == "t"


@pytest.mark.parametrize("value, reason", [
    (None, Reason.EMPTY_TEXT),
    (b"\xff\xfe", Reason.NOT_UTF8),
    (b'{"text": "a",', Reason.INVALID_JSON),
    (b"  [1, 2]", Reason.WRONG_TYPE),
    (b'{"source": "x"}', Reason.EMPTY_TEXT),
    (b'{"text": "   "}', Reason.EMPTY_TEXT),
    (b"   ", Reason.EMPTY_TEXT),
    (json.dumps({"text": "x" * 101}).encode(), Reason.TEXT_TOO_LONG),
    (b"x" * 1025, Reason.MESSAGE_TOO_LARGE),
    (b'{"text": ["a"]}', Reason.WRONG_TYPE),
    (b'{"text": "a", "id": 7}', Reason.WRONG_TYPE),
    (b'{"text": "a", "ts": true}', Reason.WRONG_TYPE),
    (b'{"text": "a", "ts": "yesterday"}', Reason.WRONG_TYPE),
    (b'{"text": "a", "tickers": "AAPL"}', Reason.WRONG_TYPE),
    (b'{"text": "a", "tickers": ["not a ticker"]}', Reason.WRONG_TYPE),
    (b'{"text": "a", "source": 3}', Reason.WRONG_TYPE),
])
def test_rejections_name_the_reason(validate, value, reason):
    result = validate(raw(value))
    assert isinstance(result, DeadLetter)
    assert result.reason is reason and result.detail
    assert result.raw.value == value and result.raw.offset == 5


def test_wrong_type_details_say_expected_and_received(validate):
    assert validate(raw(b'{"text": 3}')).detail == "text: expected string, got int"


@pytest.mark.parametrize("value, expected", [
    (1_700_000_000_123, 1_700_000_000_123),
    ("1700000000123", 1_700_000_000_123),
    (1.7e12, 1_700_000_000_000),
    ("2023-11-14T22:13:20.123Z", 1_700_000_000_123),
    ("2023-11-14T22:13:20.123", 1_700_000_000_123),  # naive = UTC
    ("2023-11-14T23:13:20.123+01:00", 1_700_000_000_123),
])
def test_parse_ts(value, expected):
    assert parse_ts(value) == expected


def test_ts_out_of_range_is_rejected(validate):
    assert validate(raw(b'{"text": "a", "ts": -5}')).reason is Reason.WRONG_TYPE
