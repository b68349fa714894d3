"""The JSON Schemas in stream/schemas/ describe what the code produces."""
import json
from importlib.resources import files

import pytest
from jsonschema import Draft202012Validator, ValidationError

from stream.records import Reason, ScoredRecord, TickerScore, iso_ms, ticker_batch_values
from stream.sinks.kafka import dead_letter_headers
from stream.records import DeadLetter, RawMessage


def schema(name: str) -> dict:
    return json.loads((files("stream") / "schemas" / name).read_text())


def test_scored_record_fields_match_the_schema():
    record = ScoredRecord(id="a", ts=iso_ms(0), ts_ms=0, tickers=["X"], label="neutral",
                          probabilities={"negative": 0.2, "neutral": 0.5, "positive": 0.3}, score=0.1,
                          model_version="v", latency_ms=1.0, text="t")
    assert set(json.loads(record.to_json())) == set(schema("scored.schema.json")["required"])


def validator(name: str) -> Draft202012Validator:
    s = schema(name)
    Draft202012Validator.check_schema(s)
    return Draft202012Validator(s)


def scored(tickers, text="t", label="negative", score=-0.6, id="a", ts_ms=0):
    return ScoredRecord(id=id, ts=iso_ms(ts_ms), ts_ms=ts_ms, tickers=tickers, label=label,
                        probabilities={"negative": 0.7, "neutral": 0.2, "positive": 0.1}, score=score,
                        model_version="v", latency_ms=1.0, text=text)


def test_scored_records_validate_against_their_schema():
    v = validator("scored.schema.json")
    v.validate(json.loads(scored(["X"]).to_json()))
    with pytest.raises(ValidationError):
        v.validate({**json.loads(scored(["X"]).to_json()), "score": 2})


def test_by_ticker_values_validate_against_their_schema():
    v = validator("ticker_score.schema.json")
    records = [scored(["AAPL", "MSFT"], text="t" * 500, id="a"), scored(["AAPL"], id="b", ts_ms=5)]
    values = [json.loads(value) for _, value in ticker_batch_values(records)]
    for value in values:
        v.validate(value)
    assert [(x["ticker"], [s["id"] for s in x["scores"]]) for x in values] == [("AAPL", ["a", "b"]), ("MSFT", ["a"])]
    assert values[0]["scores"][0]["confidence"] == 0.7 and len(values[0]["scores"][0]["headline"]) == 280
    v.validate(json.loads(TickerScore.for_ticker(records[0], "AAPL").to_json()))  # the single form (older workers)
    one = values[1]["scores"][0]
    for bad in ({"ticker": "A", "scores": []}, {"ticker": "A", "scores": [{"id": "x"}]},
                {"ticker": "A", "scores": [{**one, "extra": 1}]}, {"ticker": "A", "scores": [{**one, "ticker": "A"}]},
                {**json.loads(TickerScore.for_ticker(records[0], "AAPL").to_json()), "extra": 1}):
        with pytest.raises(ValidationError):
            v.validate(bad)


def test_by_ticker_records_are_split_at_the_size_cap_in_order():
    records = [scored(["AAPL"], id=str(i)) for i in range(7)]
    values = ticker_batch_values(records, max_scores=3)
    assert [k for k, _ in values] == [b"AAPL"] * 3
    assert [[s["id"] for s in json.loads(v)["scores"]] for _, v in values] == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
    assert ticker_batch_values([scored([])]) == []
    with pytest.raises(ValueError, match="max_scores must be >= 1, got 0"):
        ticker_batch_values(records, max_scores=0)


def test_ticker_scores_carry_what_the_alerts_read():
    from stream.alerts.article import articles_from_record, score_records

    record = ScoredRecord(id="a", ts=iso_ms(5_000), ts_ms=5_000, tickers=["AAPL", "MSFT"], label="positive",
                          probabilities={"negative": 0.1, "neutral": 0.2, "positive": 0.7}, score=0.6,
                          model_version="bilstm-1", latency_ms=1.0, text="Apple and Microsoft rally")
    values = [json.loads(v) for _, v in ticker_batch_values([record])]
    articles = [a for value in values for item in score_records(value) for a in articles_from_record(item)]
    assert [(a.ticker, a.ts, a.score, a.confidence, a.model_version, a.headline) for a in articles] == [
        ("AAPL", 5.0, 0.6, 0.7, "bilstm-1", "Apple and Microsoft rally"),
        ("MSFT", 5.0, 0.6, 0.7, "bilstm-1", "Apple and Microsoft rally")]
    (single,) = articles_from_record(json.loads(TickerScore.for_ticker(record, "MSFT").to_json()))
    assert single == articles[1]


def test_dead_letter_headers_and_reasons_match_the_schema():
    s = schema("dead_letter_headers.schema.json")
    headers = dict(dead_letter_headers(DeadLetter(RawMessage(b"x", None, "news", 1, 2, 3), Reason.EMPTY_TEXT, "d")))
    assert set(headers) == set(s["required"])
    assert set(s["properties"]["finsentry-reason"]["enum"]) == {r.value for r in Reason}


def test_news_schema_is_valid_json_with_text_or_headline():
    assert schema("news.schema.json")["anyOf"] == [{"required": ["text"]}, {"required": ["headline"]}]


def test_batched_scores_hold_exactly_the_single_score_fields():
    records = [scored(["AAPL", "BRK.B"], text='Say "hi" to Apple ü', id="é1"), scored(["AAPL"], id="b")]
    for key, value in ticker_batch_values(records):
        batch = json.loads(value)
        expected = [TickerScore.for_ticker(r, key.decode()).asdict() for r in records if key.decode() in r.tickers]
        assert [{**item, "ticker": batch["ticker"]} for item in batch["scores"]] == expected
