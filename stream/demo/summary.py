"""The demo's live terminal summary: throughput and latency from the scored topic, sentiment from Redis."""
from __future__ import annotations

import json
import threading
import time
from collections import deque

from ..sinks.redis import TICKERS_KEY, agg_key


class ScoredFollower:
    """Follows the scored topic in a thread; keeps (arrival time, latency ms) of the last minute."""

    def __init__(self, bootstrap: str, topic: str):
        from kafka import KafkaConsumer

        self._consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="latest",
                                       group_id=None, consumer_timeout_ms=200)
        self.recent: deque[tuple[float, float]] = deque()
        self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-follower", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for message in self._consumer:
                now = time.time()
                self.recent.append((now, float(json.loads(message.value)["latency_ms"])))
                self.total += 1
                while self.recent and self.recent[0][0] < now - 60:
                    self.recent.popleft()
                if self._stop.is_set():
                    break

    def stats(self, window_s: float = 5.0) -> tuple[float, float, float]:
        """(messages/s, p50 ms, p99 ms) over the last ``window_s`` seconds."""
        cutoff = time.time() - window_s
        latencies = sorted(lat for t, lat in list(self.recent) if t >= cutoff)
        if not latencies:
            return 0.0, 0.0, 0.0
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
        return len(latencies) / window_s, pick(0.5), pick(0.99)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._consumer.close()


def sentiment_table(redis_client, window: str = "5m") -> list[tuple[str, int, float, float, float]]:
    """(ticker, count, mean score, share negative, EWMA) per ticker, from the aggregates in Redis."""
    rows = []
    for ticker in sorted(redis_client.zrange(TICKERS_KEY, 0, -1)):
        agg = redis_client.hgetall(agg_key(ticker))
        if agg:
            rows.append((ticker, int(agg.get(f"{window}:count", 0)), float(agg.get(f"{window}:mean", 0)),
                         float(agg.get(f"{window}:neg_share", 0)), float(agg.get("ewma", 0))))
    return rows


def recent_alerts(redis_client, stream_key: str, n: int = 6) -> list[dict]:
    """The newest ``n`` alert notifications (firing, resolved) from the alerts' Redis Stream, oldest first."""
    entries = redis_client.xrevrange(stream_key, count=n)
    return [json.loads(fields["payload"]) for _, fields in reversed(entries)]


def alert_line(alert: dict) -> str:
    window = alert.get("window", {})
    return (f"ALERT {alert['state']:<8} {alert['ticker']:<6} {alert['rule']:<6} {alert['direction']:<4} "
            f"mean {window.get('mean_before', 0):+.2f} -> {window.get('mean_after', 0):+.2f}  "
            f"at {(alert.get('event_at') or '')[11:19]}")


def bar(value: float, width: int = 20) -> str:
    """A centred bar for a score in [-1, 1]: ``-----|##`` style."""
    half = width // 2
    n = int(round(abs(value) * half))
    left = " " * (half - n) + "#" * n if value < 0 else " " * half
    right = "#" * n + " " * (half - n) if value > 0 else " " * half
    return f"[{left}|{right}]"


def render(elapsed_s: float, regime: str, rate: float, p50: float, p99: float, total: int, rows, model: str,
           alerts: list[dict] | None = None) -> str:
    lines = [f"finsentry demo  t={elapsed_s:5.0f}s  regime={regime:<6}  model={model}",
             f"scored {total:>7}   {rate:7.1f} msg/s   latency publish->scored p50 {p50:6.1f} ms  p99 {p99:6.1f} ms",
             "", f"{'ticker':<6} {'5m n':>6} {'5m mean':>8} {'neg%':>5} {'ewma':>7}  sentiment (ewma)"]
    for ticker, count, mean, neg, ewma in rows:
        lines.append(f"{ticker:<6} {count:>6} {mean:>+8.3f} {neg * 100:>4.0f}% {ewma:>+7.3f}  {bar(ewma)}")
    if alerts is not None:
        lines += ["", "alerts (newest last):" if alerts else "alerts: none yet"]
        lines += [alert_line(a) for a in alerts]
    return "\n".join(lines)
