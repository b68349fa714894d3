"""Shift detectors: detection delay against shift size, and false alarms on stationary streams.

    python -m benchmarks.detectors [--reps 100] [--rate-per-hour 30]

Default parameters of each rule (stream.alerts.config). Score rules see N(0, sd) scores whose mean
moves by `shift` sd after 500 articles (delay: articles from the change to the alarm; "found" is
the share of runs that alarmed within 1000 articles). The volume rule sees bursty gamma-Poisson
counts (2 articles per 5-minute window) multiplied by `factor`. False alarms are counted over
3 x 100k articles of Gaussian scores, of a calm 3-class sentiment mixture (with and without
confidence weights) and of a skewed mixture (a ticker whose news is 70% positive, 10% negative: one
bad headline is then a large deviation), and over 200 fresh 500-article streams of the skewed
mixture (a new ticker, whose baseline is least certain).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from stream.alerts.config import AlertConfig
from stream.alerts.detectors import CUSUM, EWMAChart, VolumeDetector
from stream.alerts.testing import gaussian_scores, mixture_scores, window_counts

PRE, POST = 500, 1000
SKEWED_MIX = (0.1, 0.2, 0.7)  # (negative, neutral, positive) shares


def first_alarm(det, xs, start):
    for i, x in enumerate(xs):
        if det.update(float(x)).drift_detected and i >= start:
            return i - start + 1
    return None


def delays(make, series):
    found = [d for d in (first_alarm(make(), xs, start) for xs, start in series) if d is not None]
    return found, len(found) / len(series)


def fmt(found, share, seconds_per_unit):
    if not found:
        return "      -        -        -    0%"
    med, p90 = np.median(found), np.percentile(found, 90)
    return f"{med:7.0f} {p90:8.0f} {med * seconds_per_unit / 60:8.0f} {share:5.0%}"


def false_alarms(make, xs, weights=None):
    det = make()
    w = np.ones(len(xs)) if weights is None else weights
    return sum(det.update(float(x), float(v)).drift_detected for x, v in zip(xs, w))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--rate-per-hour", type=float, default=30.0, help="articles per hour per ticker")
    args = ap.parse_args(argv)
    t0 = time.time()
    cfg = AlertConfig()
    rules = {"ewma": lambda: EWMAChart(**cfg.ewma.detector_kwargs()),
             "cusum": lambda: CUSUM(**cfg.cusum.detector_kwargs())}
    volume = lambda: VolumeDetector(**cfg.volume.detector_kwargs())  # noqa: E731
    sec_per_article = 3600.0 / args.rate_per_hour
    print(f"Detection delay (median and p90 in articles; median minutes at {args.rate_per_hour:g} articles/h)")
    print(f"{'rule':6} {'shift':>6} {'median':>7} {'p90':>8} {'minutes':>8} {'found':>5}")
    for shift in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0):
        series = [(gaussian_scores(PRE + POST, seed=s, change_at=PRE, shift=-shift), PRE) for s in range(args.reps)]
        for name, make in rules.items():
            print(f"{name:6} {shift:5.2f}s {fmt(*delays(make, series), sec_per_article)}")
    print("\nVolume rule (5-minute windows, 2 articles per window before the surge; delay in windows)")
    print(f"{'rule':6} {'factor':>6} {'median':>7} {'p90':>8} {'minutes':>8} {'found':>5}")
    for factor in (2.0, 3.0, 5.0, 10.0):
        series = [(window_counts(300 + 200, seed=s, change_at=300, factor=factor), 300) for s in range(args.reps)]
        found, share = delays(volume, [(xs, start) for xs, start in series])
        print(f"volume {factor:5.0f}x {fmt(found, share, cfg.volume.window_s)}")
    print("\nFalse alarms per 10k articles on stationary streams (3 x 100k articles)")
    print(f"{'rule':6} {'gaussian':>9} {'mixture':>8} {'mixture+conf':>13} {'skewed':>7} {'skewed, fresh':>14}")
    for name, make in rules.items():
        g = m = mw = sk = fresh = 0
        for seed in range(3):
            scores, conf = mixture_scores(100_000, seed=seed)
            g += false_alarms(make, gaussian_scores(100_000, seed=seed))
            m += false_alarms(make, scores)
            mw += false_alarms(make, scores, conf)
            sk += false_alarms(make, mixture_scores(100_000, seed=seed, mix=SKEWED_MIX)[0])
        for seed in range(200):
            fresh += false_alarms(make, mixture_scores(500, seed=1000 + seed, mix=SKEWED_MIX)[0])
        print(f"{name:6} {g / 30:9.2f} {m / 30:8.2f} {mw / 30:13.2f} {sk / 30:7.2f} {fresh / 10:14.2f}")
    fa = sum(false_alarms(volume, window_counts(100_000, seed=s, rate=2.0)) for s in range(3))
    print(f"volume {fa / 60:9.2f}   (per 10k articles = 5k windows at 2 per window)")
    print(f"\n({time.time() - t0:.0f}s)")


if __name__ == "__main__":
    main()
