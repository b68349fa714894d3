"""The JSON Schemas in stream/schemas/ describe what the code produces."""
import json
from importlib.resources import files

from stream.records import Reason, ScoredRecord, TickerScore, iso_ms
from stream.sinks.kafka import dead_letter_headers
from stream.records import DeadLetter, RawMessage


def schema(name: str) -> dict:
    return json.loads((files("stream") / "schemas" / name).read_text())


def test_scored_record_fields_match_the_schema():
    record = ScoredRecord(id="a", ts=iso_ms(0), ts_ms=0, tickers=["X"], label="neutral",
                          probabilities={"negative": 0.2, "neutral": 0.5, "positive": 0.3}, score=0.1,
                          model_version="v", latency_ms=1.0, text="t")
    assert set(json.loads(record.to_json())) == set(schema("scored.schema.json")["required"])


def test_ticker_score_fields_match_the_schema():
    record = ScoredRecord(id="a", ts=iso_ms(0), ts_ms=0, tickers=["X"], label="negative",
                          probabilities={"negative": 0.7, "neutral": 0.2, "positive": 0.1}, score=-0.6,
                          model_version="v", latency_ms=1.0, text="t" * 500)
    value = json.loads(TickerScore.for_ticker(record, "X").to_json())
    assert set(value) == set(schema("ticker_score.schema.json")["required"])
    assert value["confidence"] == 0.7 and len(value["headline"]) == 280


def test_ticker_scores_carry_what_the_alerts_read():
    from stream.alerts.article import articles_from_record

    record = ScoredRecord(id="a", ts=iso_ms(5_000), ts_ms=5_000, tickers=["AAPL", "MSFT"], label="positive",
                          probabilities={"negative": 0.1, "neutral": 0.2, "positive": 0.7}, score=0.6,
                          model_version="bilstm-1", latency_ms=1.0, text="Apple and Microsoft rally")
    (article,) = articles_from_record(json.loads(TickerScore.for_ticker(record, "MSFT").to_json()))
    assert (article.ticker, article.ts, article.score, article.confidence, article.model_version,
            article.headline) == ("MSFT", 5.0, 0.6, 0.7, "bilstm-1", "Apple and Microsoft rally")


def test_dead_letter_headers_and_reasons_match_the_schema():
    s = schema("dead_letter_headers.schema.json")
    headers = dict(dead_letter_headers(DeadLetter(RawMessage(b"x", None, "news", 1, 2, 3), Reason.EMPTY_TEXT, "d")))
    assert set(headers) == set(s["required"])
    assert set(s["properties"]["finsentry-reason"]["enum"]) == {r.value for r in Reason}


def test_news_schema_is_valid_json_with_text_or_headline():
    assert schema("news.schema.json")["anyOf"] == [{"required": ["text"]}, {"required": ["headline"]}]


def test_ticker_score_fast_path_is_byte_identical():
    from stream.records import ticker_score_values

    record = ScoredRecord(id="é1", ts=iso_ms(0), ts_ms=0, tickers=["AAPL", "BRK.B"], label="neutral",
                          probabilities={"negative": 0.2, "neutral": 0.5, "positive": 0.3}, score=0.1,
                          model_version="v", latency_ms=1.0, text='Say "hi" to Apple ü')
    assert ticker_score_values(record) == [(t.encode(), TickerScore.for_ticker(record, t).to_json())
                                           for t in record.tickers]
