import json

import pytest

from stream.errors import ConfigError
from stream.tickers import TickerExtractor, normalize_ticker


@pytest.fixture
def extract():
    return TickerExtractor({"AAPL": ("Apple",), "BAC": ("Bank of America", "BofA"), "T": ("AT&T",),
                            "MCD": ("McDonald's",)})


def test_cashtags_in_order_without_duplicates(extract):
    assert extract("$TSLA and $aapl, then $TSLA again") == ("TSLA", "AAPL")


def test_cashtags_ignore_amounts_and_embedded_dollars(extract):
    assert extract("raised $5B at $12.50, US$100, a$BC") == ()
    assert extract("$BRK.B rose; $AAPL.") == ("BRK.B", "AAPL")


def test_aliases_match_whole_case_sensitive_words(extract):
    assert extract("Apple's deal with Bank of America") == ("AAPL", "BAC")
    assert extract("apple pie and Applebee's") == ()
    assert extract("AT&T and McDonald's") == ("T", "MCD")


def test_alias_and_cashtag_for_the_same_ticker_count_once(extract):
    assert extract("Apple ($AAPL) up; BofA down") == ("AAPL", "BAC")


def test_max_tickers_keeps_the_first_mentions():
    extract = TickerExtractor({}, max_tickers=2)
    assert extract("$A $B $C") == ("A", "B")


def test_builtin_list_knows_common_names():
    assert TickerExtractor()("Microsoft and Nvidia rally") == ("MSFT", "NVDA")


def test_from_file(tmp_path):
    path = tmp_path / "symbols.json"
    path.write_text(json.dumps({"ACME": ["Acme Corp"]}))
    assert TickerExtractor.from_file(path)("Acme Corp wins") == ("ACME",)
    path.write_text(json.dumps({"ACME": "Acme"}))
    with pytest.raises(ConfigError, match="expected an object of ticker -> list"):
        TickerExtractor.from_file(path)
    with pytest.raises(ConfigError, match="expected a ticker"):
        TickerExtractor({"not a ticker": ("x",)})


@pytest.mark.parametrize("value, expected", [("$aapl", "AAPL"), (" brk.b ", "BRK.B"), ("", None), ("A B", None)])
def test_normalize_ticker(value, expected):
    assert normalize_ticker(value) == expected
