"""The alert payload: one JSON object per notification, self-describing and idempotent by ``id``."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stream.alerts.detectors import ShiftDetector, VolumeDetector
from stream.alerts.evidence import Evidence
from stream.alerts.lifecycle import Notice, fingerprint

SCHEMA_VERSION = 1


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> ISO 8601 UTC with milliseconds.

    >>> iso(1700000000.5)
    '2023-11-14T22:13:20.500Z'
    """
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def num(x: float, digits: int) -> float:
    """Rounded, without a negative zero (``-0.0`` reads as a direction where there is none)."""
    return round(x, digits) + 0.0


def threshold_of(det: ShiftDetector) -> float:
    return float(getattr(det, "limit", getattr(det, "h", 0.0)))


def build_alert(*, ticker: str, rule: str, notice: Notice, detector: ShiftDetector, evidence: Evidence,
                model_version: str, article_count: int, emitted_at: float, top_k: int,
                window_items: list[list] | None = None, window_count: int | None = None) -> dict[str, Any]:
    """Assemble the payload. Score rules compare the recent window's weighted mean with the baseline;
    the volume rule compares the last closed window's count (``window_count``) with the usual count."""
    fp = fingerprint(ticker, rule, notice.direction)
    episode = f"{fp}-{round(notice.since_ts * 1000)}"
    base = detector.baseline
    if isinstance(detector, VolumeDetector):
        before, after = base.mean, float(window_count or 0)
        sigma = detector.sigma
        items = window_items or []
        headlines = Evidence.describe(sorted(items, key=lambda it: -abs(it[2]))[:top_k])
        window_n = int(window_count or 0)
    else:  # firing: the window the statistic reflects; resolved: the whole episode (as far as kept)
        window_n = min(detector.window, len(evidence.items))
        if notice.kind == "resolved":
            window_n = max(1, sum(1 for it in evidence.items if it[1] >= notice.since_ts))
        before, after, sigma = base.mean, evidence.mean(last=window_n), base.sigma
        headlines = evidence.top(window_n, notice.direction, before, top_k)
    resolved = notice.kind == "resolved"
    return {
        "schema": SCHEMA_VERSION,
        "id": f"{episode}-{notice.sequence}",
        "fingerprint": fp,
        "episode": episode,
        "sequence": notice.sequence,
        "ticker": ticker,
        "rule": rule,
        "direction": "up" if notice.direction > 0 else "down",
        "state": "resolved" if resolved else "firing",
        "notice": notice.kind,
        "window": {"mean_before": num(before, 4), "mean_after": num(after, 4), "articles": window_n},
        "sigma_distance": num((after - before) / sigma, 3) if sigma else 0.0,
        "statistic": num(detector.statistic, 3),
        "threshold": threshold_of(detector),
        "article_count": article_count,
        "headlines": headlines,
        "model_version": model_version,
        "starts_at": iso(notice.since_ts),
        "fired_at": iso(notice.fired_ts),
        "ends_at": iso(notice.ts) if resolved else None,
        "event_at": iso(notice.ts),
        "emitted_at": iso(emitted_at),
    }
