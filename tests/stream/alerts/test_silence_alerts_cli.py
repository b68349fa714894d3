"""``finsentry silence`` and ``finsentry alerts tail`` against a real Redis."""
from __future__ import annotations

import asyncio
import json

import pytest

from stream.alerts.cli import alerts_main, format_alert, silence_main
from stream.alerts.engine import AlertEngine

pytestmark = pytest.mark.integration
STEP = [0.3, -0.3, 0.0, 0.2, -0.2] * 20 + [-0.8] * 20 + [0.3, -0.3, 0.0, 0.2, -0.2] * 30


def run(main, argv, capsys):
    code = main(argv)
    return code, capsys.readouterr()


def test_silence_add_list_expire(redis_service, capsys, monkeypatch):
    import redis

    redis.Redis.from_url(redis_service.url).flushdb()
    monkeypatch.delenv("FINSENTRY_CONFIG", raising=False)
    url = ["--redis-url", redis_service.url]
    code, out = run(silence_main, ["add", "--ticker", "aapl", "--rule", "ewma", "--duration", "30m",
                                   "--comment", "earnings", "--json", *url], capsys)
    assert code == 0
    silence = json.loads(out.out)
    assert (silence["ticker"], silence["rule"], silence["comment"]) == ("AAPL", "ewma", "earnings")
    code, out = run(silence_main, ["list", "--json", *url], capsys)
    assert [s["id"] for s in json.loads(out.out)] == [silence["id"]]
    code, out = run(silence_main, ["expire", silence["id"], *url], capsys)
    assert code == 0 and "expired" in out.out
    code, out = run(silence_main, ["list", *url], capsys)
    assert out.out.strip() == "no silences"
    code, out = run(silence_main, ["expire", "nope", *url], capsys)
    assert code == 1 and "no silence with id 'nope'" in out.err
    code, out = run(silence_main, ["add", "--duration", "1h", *url], capsys)
    assert code == 2 and "expected a ticker, a rule or both" in out.err
    code, out = run(silence_main, ["add", "--ticker", "X", "--duration", "soon", *url], capsys)
    assert code == 2 and "expected e.g. 30m" in out.err


async def test_alerts_tail_prints_recent_alerts(redis, redis_service, small_config, articles, capsys, monkeypatch):
    monkeypatch.delenv("FINSENTRY_CONFIG", raising=False)
    alerts = await AlertEngine(redis, small_config, clock=lambda: 1.8e9).process(articles(STEP))
    code = await asyncio.to_thread(alerts_main, ["tail", "--no-follow", "--json", "--redis-url", redis_service.url])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and [json.loads(x)["id"] for x in lines] == [a["id"] for a in alerts]
    assert "FIRING" in format_alert(alerts[0]) and "AAPL" in format_alert(alerts[0])


def _readline(proc, timeout_s: float = 15.0) -> str:
    """One line of the child's stdout, or fail after ``timeout_s`` (a thread keeps the test from hanging)."""
    import queue
    import threading

    out: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: out.put(proc.stdout.readline()), daemon=True).start()
    try:
        return out.get(timeout=timeout_s)
    except queue.Empty:
        raise AssertionError(f"finsentry alerts tail printed nothing within {timeout_s}s") from None


async def test_alerts_tail_follows_new_alerts_as_a_real_command(redis, redis_service, small_config, articles):
    """``finsentry alerts tail`` in its own process: the latest alert first, then each new one as the engine
    commits it, filtered by ticker; it exits cleanly on Ctrl-C."""
    import os
    import signal
    import subprocess
    import sys

    engine = AlertEngine(redis, small_config, clock=lambda: 1.8e9)
    arts = articles(STEP)
    firing = await engine.process(arts[:115])
    assert [a["notice"] for a in firing] == ["firing", "firing"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINSENTRY_")}
    proc = subprocess.Popen([sys.executable, "-m", "finsentry_cli", "alerts", "tail", "-n", "1", "--json",
                             "--ticker", "aapl", "--redis-url", redis_service.url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert json.loads(await asyncio.to_thread(_readline, proc))["id"] == firing[-1]["id"]
        await engine.process(articles(STEP[:40], ticker="MSFT"))  # calm MSFT news: no alert, and filtered anyway
        resolved = await engine.process(arts[115:])
        assert sorted(a["notice"] for a in resolved) == ["resolved", "resolved"]
        followed = [json.loads(await asyncio.to_thread(_readline, proc)) for _ in resolved]
        assert [a["id"] for a in followed] == [a["id"] for a in resolved]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
