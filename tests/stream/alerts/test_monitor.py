"""A ticker's monitor end to end without services: payloads, evidence, silences, state round trips."""
from __future__ import annotations

import json

import pytest

from stream.alerts.article import BadRecord, articles_from_record
from stream.alerts.config import AlertConfig, CUSUMRule, EWMARule, VolumeRule
from stream.alerts.detectors import CUSUM, EWMAChart, VolumeDetector
from stream.alerts.errors import AlertConfigError
from stream.alerts.monitor import TickerMonitor
from stream.alerts.silences import Silence
from stream.alerts.testing import mixture_scores

NOW = 1_800_000_000.0
STEP = [0.3, -0.3, 0.0, 0.2, -0.2] * 20 + [-0.8] * 20 + [0.3, -0.3, 0.0, 0.2, -0.2] * 30


def feed(mon, arts, silences=()):
    out = []
    for a in arts:
        out += mon.apply(a, silences=list(silences), now=NOW)
    return out


def test_step_down_fires_once_per_rule_then_resolves_with_evidence(small_config, articles):
    alerts = feed(TickerMonitor("AAPL", small_config), articles(STEP))
    assert [a["notice"] for a in alerts] == ["firing", "firing", "resolved", "resolved"]
    assert sorted((a["rule"], a["notice"]) for a in alerts) == [
        ("cusum", "firing"), ("cusum", "resolved"), ("ewma", "firing"), ("ewma", "resolved")]
    firing = next(a for a in alerts if a["rule"] == "ewma")
    assert firing["direction"] == "down" and firing["state"] == "firing"
    assert firing["window"]["mean_after"] < firing["window"]["mean_before"] and firing["sigma_distance"] < -1
    assert firing["model_version"] == "bilstm-test" and firing["ticker"] == "AAPL"
    scores = [h["score"] for h in firing["headlines"]]
    assert scores[0] == -0.8 and scores == sorted(scores)  # strongest push downward first
    assert firing["starts_at"] <= firing["fired_at"] and firing["ends_at"] is None
    resolved = next(a for a in alerts if a["rule"] == "ewma" and a["notice"] == "resolved")
    assert resolved["fingerprint"] == firing["fingerprint"] and resolved["episode"] == firing["episode"]
    assert resolved["id"] != firing["id"] and resolved["ends_at"] is not None
    assert set(firing) >= {"fingerprint", "ticker", "rule", "direction", "state", "window", "sigma_distance",
                           "article_count", "headlines", "model_version", "starts_at", "emitted_at"}
    json.dumps(alerts)


def test_state_round_trip_at_every_article_gives_the_same_alerts(small_config, articles):
    arts = articles(STEP)
    expected = feed(TickerMonitor("AAPL", small_config), arts)
    mon, got = TickerMonitor("AAPL", small_config), []
    for a in arts:
        got += mon.apply(a, silences=[], now=NOW)
        mon = TickerMonitor.from_state("AAPL", small_config, json.loads(json.dumps(mon.state_dict())))
    assert got == expected


def test_silence_by_rule_mutes_only_that_rule(small_config, articles):
    silence = Silence("s1", None, "ewma", starts_at=NOW - 1, ends_at=NOW + 60)
    alerts = feed(TickerMonitor("AAPL", small_config), articles(STEP), [silence])
    assert [(a["rule"], a["notice"]) for a in alerts] == [("cusum", "firing"), ("cusum", "resolved")]


def test_planted_regime_change_fires_for_that_ticker_only(articles):
    cfg = AlertConfig(volume={"enabled": False})
    alerts = []
    for k, ticker in enumerate(["AAA", "BBB", "CCC"]):
        shifted = ticker == "BBB"
        scores, _ = mixture_scores(800, seed=10 + k, change_at=500 if shifted else None,
                                   mix_after=(0.7, 0.25, 0.05) if shifted else None)
        mon = TickerMonitor(ticker, cfg)
        alerts += feed(mon, articles(scores, ticker=ticker))
    firing = [(a["ticker"], a["rule"]) for a in alerts if a["notice"] == "firing"]
    assert sorted(firing) == [("BBB", "cusum"), ("BBB", "ewma")]


def test_volume_surge_alert_lists_the_windows_articles(articles):
    cfg = AlertConfig(ewma={"enabled": False}, cusum={"enabled": False},
                      volume={"window_s": 60, "min_windows": 10, "lag": 2, "cool": 1})
    mon = TickerMonitor("NVDA", cfg)
    make_articles = articles
    calm = make_articles([0.0] * 30, ticker="NVDA", dt=30.0)       # 2 per minute for 15 minutes
    burst = make_articles([0.5] * 20, ticker="NVDA", start=30, dt=2.0, t0=calm[-1].ts - 58)
    after = make_articles([0.0] * 3, ticker="NVDA", start=60, dt=60.0, t0=burst[-1].ts + 60 - 60 * 60)
    alerts = feed(mon, calm + burst + after)
    assert [a["notice"] for a in alerts][:1] == ["firing"]
    a = alerts[0]
    assert a["rule"] == "volume" and a["direction"] == "up" and a["window"]["mean_after"] >= 10
    assert len(a["headlines"]) == 5


def test_config_defaults_match_the_detectors_and_errors_are_clear():
    for rule, cls in ((EWMARule(), EWMAChart), (CUSUMRule(), CUSUM), (VolumeRule(), VolumeDetector)):
        assert cls(**rule.detector_kwargs()).params == cls().params
    with pytest.raises(ValueError, match="ewma.clear: expected a value below limit=0.5"):
        AlertConfig(ewma={"limit": 0.5})
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        AlertConfig(cusum={"hh": 1})


def test_records_are_parsed_and_bad_ones_named():
    rec = {"id": "x", "ts_ms": 1_700_000_000_000, "tickers": ["aapl", "msft", "AAPL"], "score": 0.5,
           "probs": {"negative": 0.1, "neutral": 0.2, "positive": 0.7}, "text": "Up"}
    assert [(a.ticker, a.confidence, a.headline) for a in articles_from_record(rec)] == \
        [("AAPL", 0.7, "Up"), ("MSFT", 0.7, "Up")]
    assert articles_from_record({**rec, "tickers": None}, key=b"tsla")[0].ticker == "TSLA"
    with pytest.raises(BadRecord, match="missing score"):
        articles_from_record({"id": "y", "ts": 1, "ticker": "A"})
    with pytest.raises(BadRecord, match=r"expected score in \[-1, 1\], got 3"):
        articles_from_record({"id": "y", "ts": 1, "ticker": "A", "score": 3})
    assert issubclass(AlertConfigError, ValueError)


def test_webhook_urls_are_secret_and_checked():
    from stream.alerts.config import WebhookConfig

    cfg = AlertConfig(webhooks=[{"url": "https://hooks.example.com/T000/B000/XXXX", "secret": "k"}])
    assert "XXXX" not in repr(cfg) and "XXXX" not in cfg.model_dump_json()
    assert cfg.webhooks[0].url.get_secret_value().endswith("XXXX")
    with pytest.raises(ValueError, match="expected an http:// or https:// URL"):
        WebhookConfig(url="ftp://example.com")


def bursty_articles(seed: int, n: int = 3000):
    """Articles with real gaps: quiet spells of up to two days (hundreds of empty 5-minute windows) between
    bursts, some bursts big enough to fire the volume rule."""
    import numpy as np

    from stream.alerts.article import Article

    rng, ts, out = np.random.default_rng(seed), 1_700_000_000.0, []
    for i in range(n):
        ts += float(rng.choice([rng.exponential(60.0), rng.exponential(3 * 3600.0), rng.uniform(0, 2 * 86400)],
                               p=[0.85, 0.13, 0.02]))
        out.append(Article(id=f"b{i}", ts=ts, ticker="AAPL", score=float(rng.uniform(-1, 1)), confidence=0.9,
                           label="neutral", model_version="v", headline=f"headline {i}"))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quiet_spells_are_fast_forwarded_with_the_same_alerts_and_state(seed, monkeypatch):
    cfg = AlertConfig(volume={"min_windows": 12, "min_count": 4, "limit": 4.0})
    arts = bursty_articles(seed)
    skipped, real = [], VolumeDetector.skip_empty
    monkeypatch.setattr(VolumeDetector, "skip_empty", lambda self, k: real(self, k) and not skipped.append(k))
    fast = TickerMonitor("AAPL", cfg)
    fast_alerts = feed(fast, arts)
    monkeypatch.setattr(VolumeDetector, "skip_empty", lambda self, k: False)  # every window one by one
    slow = TickerMonitor("AAPL", cfg)
    slow_alerts = feed(slow, arts)
    assert sum(skipped) > 3 * len(arts)  # the quiet spells were fast-forwarded: thousands of windows
    assert [(a["rule"], a["notice"], a["fingerprint"]) for a in fast_alerts] == \
        [(a["rule"], a["notice"], a["fingerprint"]) for a in slow_alerts]
    assert any(a["rule"] == "volume" for a in slow_alerts)  # the bursts exercise the volume rule
    f, s = fast.state_dict(), slow.state_dict()
    assert f["lifecycles"] == s["lifecycles"] and f["counter"] == s["counter"]
    fv, sv = f["detectors"]["volume"]["state"], s["detectors"]["volume"]["state"]
    fb, sb = fv.pop("baseline"), sv.pop("baseline")
    assert fv == pytest.approx(sv, rel=1e-9)  # n, calm, active, direction exactly; the statistic up to rounding
    assert fb["n"] == sb["n"] and len(fb["held"]) == len(sb["held"])
    assert [v for v, _ in fb["held"]] == pytest.approx([v for v, _ in sb["held"]], rel=1e-9)
    assert (fb["mean"], fb["var"]) == pytest.approx((sb["mean"], sb["var"]), rel=1e-9)
