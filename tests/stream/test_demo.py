import os
import subprocess
import sys

import pytest

from stream.demo.headlines import COMPANIES, HeadlineGenerator
from stream.demo.summary import bar, render
from stream.tickers import TickerExtractor


def test_headlines_are_seeded_and_carry_their_ticker():
    a, b = HeadlineGenerator(seed=3), HeadlineGenerator(seed=3)
    first = [a.next(1.0, now_ms=5) for _ in range(50)]
    assert first == [b.next(1.0, now_ms=5) for _ in range(50)]
    extract = TickerExtractor()
    for message in first:
        (ticker,) = message["tickers"]
        assert ticker in COMPANIES and ticker in extract(message["headline"])


def test_regime_change_turns_tesla_news_negative():
    def share_negative(elapsed: float) -> float:
        gen = HeadlineGenerator(change_at_s=60, seed=1)
        tesla = [m for m in (gen.next(elapsed) for _ in range(3000)) if m["tickers"] == ["TSLA"]]
        words = ("misses", "falls", "probe", "cut", "downgrade", "recalls")
        return sum(any(w in m["headline"] for w in words) for m in tesla) / len(tesla)

    assert share_negative(10) < 0.2 < 0.6 < share_negative(100)


def test_summary_rendering():
    assert bar(0.0, 10) == "[     |     ]" and bar(1.0, 10) == "[     |#####]" and bar(-0.4, 10) == "[   ##|     ]"
    screen = render(12, "before", 99.5, 40, 80, 1000, [("AAPL", 10, 0.25, 0.1, 0.2)], "m")
    assert "AAPL" in screen and "99.5 msg/s" in screen and "p99   80.0 ms" in screen


@pytest.mark.integration
def test_demo_runs_and_shuts_down_cleanly():
    env = dict(os.environ, DEMO_SECONDS="6")
    done = subprocess.run([sys.executable, "-m", "finsentry_cli", "demo", "--rate", "50"], env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "regime=" in done.stdout and "TSLA" in done.stdout
    assert "services stopped" in done.stderr
