"""Shift alerts in a real worker: a planted sentiment regime change for one ticker raises exactly one alert."""
from __future__ import annotations

import json

import pytest

from stream.alerts.config import AlertConfig
from stream.demo.headlines import HeadlineGenerator
from stream.testing import consume, wait_until

pytestmark = pytest.mark.integration

TICKERS = ("AAPL", "MSFT", "TSLA", "NVDA", "JPM", "XOM")
CHANGED = "TSLA"


def stream_with_a_change(n: int, seed: int) -> list[dict]:
    """``n`` headlines over six tickers, 1 s apart in event time; TSLA news turns from good to bad halfway."""
    generator = HeadlineGenerator(change_at_s=n / 2, seed=seed, before={CHANGED: (0.6, 0.1)},
                                  after={CHANGED: (0.05, 0.8)})
    return [generator.next(float(i), now_ms=1_700_000_000_000 + i * 1000) for i in range(n)]


def alerts_in_redis(redis_client, stream_key: str) -> list[dict]:
    return [json.loads(fields["payload"]) for _, fields in redis_client.xrange(stream_key)]


def test_planted_regime_change_fires_one_alert(kafka, topics, producer, redis_client, start_worker, keyword_model):
    # One score rule, so that one shift is one alert (with CUSUM on as well, each rule would fire its own).
    config = AlertConfig(cusum={"enabled": False})
    worker = start_worker(model_dir=keyword_model, alerts=config)
    messages = stream_with_a_change(1800, seed=7)
    for message in messages:  # keyed by ticker: each ticker's news stays in order, so detection is reproducible
        producer.send(topics["input_topic"], key=message["tickers"][0].encode(), value=json.dumps(message).encode())
    producer.flush()

    per_ticker = {t: sum(m["tickers"] == [t] for m in messages) for t in TICKERS}
    wait_until(lambda: worker.metric("finsentry_messages_out_total") >= len(messages), 90, "all messages scored")
    # every per-ticker score has been applied by the detectors (they record the ids they applied)
    wait_until(lambda: all(redis_client.zcard(f"{config.key_prefix}:seen:{t}") == n for t, n in per_ticker.items()),
               60, "the alert agent to apply every per-ticker score")

    alerts = alerts_in_redis(redis_client, config.stream_key)
    firing = [a for a in alerts if a["state"] == "firing"]
    assert [(a["ticker"], a["rule"], a["direction"]) for a in firing] == [(CHANGED, "ewma", "down")], alerts
    alert = firing[0]
    assert alert["window"]["mean_after"] < alert["window"]["mean_before"]
    assert alert["model_version"].startswith("cnn-") and alert["headlines"]
    # after the change, not before it (event time of the change: halfway through)
    assert alert["fired_at"] >= "2023-11-14T22:28:20"  # 1_700_000_000 s + 900 s
    assert worker.metric("finsentry_alerts_emitted") == len(alerts)

    # ...and the dispatcher delivered it to the alerts topic, keyed by fingerprint
    delivered = consume(kafka.bootstrap, topics["alerts_topic"], len(alerts))
    assert sorted(json.loads(m.value)["id"] for m in delivered) == sorted(a["id"] for a in alerts)
    assert all(m.key.decode() == json.loads(m.value)["fingerprint"] for m in delivered)
