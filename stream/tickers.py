"""Ticker extraction: an explicit ``tickers`` field wins; otherwise cashtags (``$AAPL``) and company aliases.

>>> extract = TickerExtractor({"AAPL": ("Apple",), "MSFT": ("Microsoft",)})
>>> extract("Apple and $tsla beat Microsoft; $5B buyback, $BRK.B flat")
('AAPL', 'TSLA', 'MSFT', 'BRK.B')
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Mapping, Sequence

from .errors import ConfigError
from .symbols import DEFAULT_SYMBOLS

TICKER = re.compile(r"^[A-Z][A-Z0-9]{0,9}(?:[.\-][A-Z0-9]{1,4})?$")
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z]{1,6}(?:\.[A-Za-z]{1,2})?)(?![\w])")


def normalize_ticker(value: str) -> str | None:
    """``"$aapl "`` -> ``"AAPL"``; None when it cannot be a ticker."""
    ticker = value.strip().lstrip("$").upper()
    return ticker if TICKER.match(ticker) else None


class TickerExtractor:
    def __init__(self, symbols: Mapping[str, Sequence[str]] | None = None, max_tickers: int = 20):
        symbols = DEFAULT_SYMBOLS if symbols is None else symbols
        self.max_tickers = max_tickers
        self._alias_to_ticker: dict[str, str] = {}
        for ticker, aliases in symbols.items():
            norm = normalize_ticker(ticker)
            if norm is None:
                raise ConfigError(f"symbol list: expected a ticker like 'AAPL' or 'BRK.B' as key, got {ticker!r}")
            for alias in aliases:
                self._alias_to_ticker[alias] = norm
        # Longest alias first, so "Bank of America" wins over a shorter alias inside it.
        names = sorted(self._alias_to_ticker, key=len, reverse=True)
        self._aliases = (re.compile(r"(?<![\w$])(" + "|".join(map(re.escape, names)) + r")(?![\w])")
                         if names else None)

    @classmethod
    def from_file(cls, path: str | Path | None, max_tickers: int = 20) -> "TickerExtractor":
        if path is None:
            return cls(None, max_tickers)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"symbols file {path}: expected readable JSON, got {exc}") from None
        if not isinstance(data, dict) or not all(
                isinstance(v, list) and all(isinstance(a, str) for a in v) for v in data.values()):
            raise ConfigError(f"symbols file {path}: expected an object of ticker -> list of alias strings")
        return cls(data, max_tickers)

    def __call__(self, text: str) -> tuple[str, ...]:
        """Tickers in order of first mention, without duplicates, at most ``max_tickers``."""
        found: list[tuple[int, str]] = [(m.start(), m.group(1).upper()) for m in _CASHTAG.finditer(text)]
        if self._aliases is not None:
            found += [(m.start(), self._alias_to_ticker[m.group(1)]) for m in self._aliases.finditer(text)]
        found.sort()
        return tuple(dict.fromkeys(t for _, t in found))[: self.max_tickers]
