"""Side-by-side speed of several predictors: throughput at batch 64 and batch-1 latency, tokenisation included."""
from __future__ import annotations

import statistics
import time
from typing import Mapping, Sequence


def measure_speed(predictors: Mapping[str, object], texts: Sequence[str], rounds: int = 3,
                  latency_samples: int = 100, batch_size: int = 64) -> dict:
    """Rounds alternate between the models so that machine noise hits them alike; medians are reported."""
    texts = list(texts)
    through = {name: [] for name in predictors}
    lat = {name: [] for name in predictors}
    for p in predictors.values():  # warm-up: allocator, thread pool, lazy init
        p.predict_proba(texts[:batch_size], batch_size)
    for _ in range(rounds):
        for name, p in predictors.items():
            t0 = time.perf_counter()
            p.predict_proba(texts, batch_size)
            through[name].append(len(texts) / (time.perf_counter() - t0))
        for name, p in predictors.items():
            for t in texts[: max(1, latency_samples // rounds)]:
                t0 = time.perf_counter()
                p.predict_proba([t], 1)
                lat[name].append((time.perf_counter() - t0) * 1000)
    out = {}
    for name in predictors:
        ls = sorted(lat[name])
        out[name] = {"texts_per_s_batch64": round(statistics.median(through[name]), 1),
                     "latency_ms_batch1_p50": round(statistics.median(ls), 3),
                     "latency_ms_batch1_p95": round(ls[int(0.95 * (len(ls) - 1))], 3),
                     "n_texts": len(texts)}
    return out
