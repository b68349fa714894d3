"""Realistic synthetic financial headlines for several tickers, with a built-in sentiment regime change.

Before ``change_at_s`` Tesla news is mostly good and Exxon news mostly bad; afterwards they swap, so the demo
shows per-ticker sentiment (and the alerts, when enabled) turning. Seeded, so runs are reproducible.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

COMPANIES = {"AAPL": "Apple", "MSFT": "Microsoft", "TSLA": "Tesla", "NVDA": "Nvidia", "JPM": "JPMorgan",
             "XOM": "Exxon"}

POSITIVE = [
    "{name} beats quarterly earnings estimates as revenue climbs {pct}%",
    "${t} shares jump after {name} raises full-year guidance",
    "{name} announces ${bn} billion buyback; stock rallies",
    "Analysts upgrade {name} to buy on strong demand",
    "{name} posts record profit, ${t} hits an all-time high",
    "{name} wins a ${bn} billion contract, shares up {pct}%",
]
NEGATIVE = [
    "{name} misses earnings estimates, shares slide {pct}%",
    "${t} falls after {name} cuts its outlook",
    "Regulators open a probe into {name}; stock drops {pct}%",
    "{name} to cut {k} jobs amid weak sales",
    "Analysts downgrade {name} to sell as margins shrink",
    "{name} recalls {k} products over safety concerns, ${t} tumbles",
]
NEUTRAL = [
    "{name} to present at an investor conference next week",
    "{name} schedules its quarterly earnings call",
    "${t} trades flat ahead of the Fed decision",
    "{name} names a new chief financial officer",
    "{name} annual shareholder meeting set for June",
]

# (P(positive), P(negative)) before and after the regime change
BEFORE = {"TSLA": (0.7, 0.1), "XOM": (0.1, 0.7)}
AFTER = {"TSLA": (0.1, 0.75), "XOM": (0.7, 0.1)}
DEFAULT = (0.35, 0.25)


@dataclass
class HeadlineGenerator:
    """``next(elapsed_s)`` -> one input message for a random ticker; each ticker's (P(positive), P(negative))
    comes from ``before`` until ``change_at_s``, then from ``after`` (``DEFAULT`` for tickers in neither)."""

    change_at_s: float = 60.0
    seed: int = 0
    before: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(BEFORE))
    after: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(AFTER))

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.count = 0

    def regime(self, elapsed_s: float) -> str:
        return "before" if elapsed_s < self.change_at_s else "after"

    def next(self, elapsed_s: float, now_ms: int | None = None) -> dict:
        rng = self.rng
        ticker = rng.choice(list(COMPANIES))
        p_pos, p_neg = (self.before if elapsed_s < self.change_at_s else self.after).get(ticker, DEFAULT)
        u = rng.random()
        templates = POSITIVE if u < p_pos else NEGATIVE if u < p_pos + p_neg else NEUTRAL
        text = rng.choice(templates).format(name=COMPANIES[ticker], t=ticker, pct=rng.randint(2, 18),
                                            bn=rng.randint(1, 40), k=rng.choice([500, 1200, 4000, 10000]))
        self.count += 1
        return {"id": f"demo-{self.seed}-{self.count}", "ts": now_ms or int(time.time() * 1000), "headline": text,
                "tickers": [ticker], "source": "demo"}
