import json

import pytest

from stream.errors import StreamError
from stream.replay import Pacer, read_messages


def test_csv_rows_for_the_same_headline_merge_their_tickers(tmp_path):
    path = tmp_path / "stream.csv"
    path.write_text('ts,ticker,headline\n2014-01-01T00:00:00Z,AAPL,"Big, news"\n'
                    '2014-01-01T00:00:00Z,GOOG,"Big, news"\n2014-01-01T00:01:00Z,C,Other\n')
    messages = list(read_messages(path))
    assert [m.payload for m in messages] == [
        {"headline": "Big, news", "tickers": ["AAPL", "GOOG"], "source": "stream", "ts": "2014-01-01T00:00:00Z"},
        {"headline": "Other", "tickers": ["C"], "source": "stream", "ts": "2014-01-01T00:01:00Z"}]
    assert messages[1].ts_ms - messages[0].ts_ms == 60_000
    assert json.loads(messages[0].encode())["tickers"] == ["AAPL", "GOOG"]


def test_jsonl_keeps_ids_and_sources(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text('{"id": 7, "text": "a", "ts": 1000, "source": "wire"}\n\n{"headline": "b"}\n')
    assert [m.payload for m in read_messages(path)] == [
        {"headline": "a", "source": "wire", "ts": 1000, "id": "7"},  # no tickers: the worker extracts them
        {"headline": "b", "source": "news"}]


def test_missing_text_column_is_named(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("ts,body\n1,a\n")
    with pytest.raises(StreamError, match="expected a 'headline' or 'text'"):
        list(read_messages(path))


def test_pacer_rate_and_speedup():
    assert [Pacer(rate=4).offset(i, None) for i in range(3)] == [0, 0.25, 0.5]
    pacer = Pacer(speedup=60)
    assert [pacer.offset(i, ts) for i, ts in enumerate([0, 60_000, 30_000, 120_000])] == [0, 1, 1, 2]
    assert Pacer().offset(5, 10) == 0
    with pytest.raises(StreamError, match="not both"):
        Pacer(rate=1, speedup=1)
