import os
import re
import subprocess
import sys

import pytest

from stream.demo.headlines import COMPANIES, NEGATIVE, NEUTRAL, POSITIVE, HeadlineGenerator
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
    alert = {"state": "firing", "ticker": "TSLA", "rule": "ewma", "direction": "down",
             "window": {"mean_before": 0.55, "mean_after": -0.61}, "event_at": "2024-03-01T14:30:05.000Z"}
    screen = render(12, "after", 99.5, 40, 80, 1000, [], "m", alerts=[alert])
    assert "ALERT firing   TSLA   ewma   down mean +0.55 -> -0.61  at 14:30:05" in screen
    assert "alerts: none yet" in render(1, "before", 0, 0, 0, 0, [], "m", alerts=[])


def test_keyword_model_reads_the_demo_headlines_as_intended(keyword_model):
    from models import Predictor

    predictor = Predictor.load(keyword_model, device="cpu")
    fill = dict(name="Tesla", t="TSLA", pct=5, bn=3, k=500)
    for templates, label in ((POSITIVE, "positive"), (NEGATIVE, "negative"), (NEUTRAL, "neutral")):
        scores = predictor.predict([t.format(**fill) for t in templates])
        assert [s.label for s in scores] == [label] * len(templates)


def test_demo_without_a_model_says_how_to_get_one(tmp_path):
    done = subprocess.run([sys.executable, "-m", "finsentry_cli", "demo", "--model-dir", str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "no model at" in done.stderr and "make default-model" in done.stderr and "--model-dir" in done.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_demo_raises_an_alert_serves_the_dashboard_and_shuts_down_cleanly(keyword_model):
    env = dict(os.environ, DEMO_SECONDS="20")
    done = subprocess.run([sys.executable, "-m", "finsentry_cli", "demo", "--rate", "100", "--model-dir",
                           str(keyword_model)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "regime=after" in done.stdout and "TSLA" in done.stdout
    assert re.search(r"ALERT firing +TSLA +\w+ +down", done.stdout), done.stdout[-3000:]
    assert re.search(r"dashboard on http://127\.0\.0\.1:\d+/", done.stderr)
    assert "dashboard stopped" in done.stderr and "Kafka and Redis stopped" in done.stderr
