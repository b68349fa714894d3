"""Seeded synthetic streams for tests and benchmarks (numpy only; no services, no data files)."""
from __future__ import annotations

import numpy as np

# Class-conditional score distributions of a 3-way sentiment model: centre and spread of
# P(pos) - P(neg) for negative, neutral and positive headlines.
CENTRES = np.array([-0.75, 0.0, 0.75])
SPREADS = np.array([0.2, 0.15, 0.2])
CALM_MIX = (0.25, 0.5, 0.25)


def mixture_scores(n: int, *, seed: int, mix: tuple[float, float, float] = CALM_MIX,
                   change_at: int | None = None, mix_after: tuple[float, float, float] | None = None,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Scores and confidences for ``n`` articles; from ``change_at`` on, labels follow ``mix_after``."""
    rng = np.random.default_rng(seed)
    probs = np.tile(np.asarray(mix, float), (n, 1))
    if change_at is not None and mix_after is not None:
        probs[change_at:] = mix_after
    cls = (rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    scores = np.clip(CENTRES[cls] + SPREADS[cls] * rng.standard_normal(n), -1.0, 1.0)
    conf = np.clip(0.55 + 0.4 * np.abs(scores) + 0.05 * rng.standard_normal(n), 0.34, 1.0)
    return scores, conf


def mixture_moments(mix: tuple[float, float, float]) -> tuple[float, float]:
    """Mean and standard deviation of the (unclipped) score under a label mix."""
    p = np.asarray(mix, float)
    mean = float(p @ CENTRES)
    var = float(p @ (SPREADS**2 + CENTRES**2)) - mean**2
    return mean, var**0.5


def gaussian_scores(n: int, *, seed: int, sd: float = 0.5, change_at: int | None = None,
                    shift: float = 0.0) -> np.ndarray:
    """N(0, sd) scores; from ``change_at`` on the mean moves by ``shift`` (in units of sd)."""
    x = np.random.default_rng(seed).standard_normal(n) * sd
    if change_at is not None:
        x[change_at:] += shift * sd
    return x


def window_counts(n_windows: int, *, seed: int, rate: float = 2.0, change_at: int | None = None,
                  factor: float = 1.0, dispersion: float = 0.3) -> np.ndarray:
    """Articles per window: gamma-Poisson (bursty) counts, mean ``rate``, times ``factor`` after the change."""
    rng = np.random.default_rng(seed)
    mean = np.full(n_windows, float(rate))
    if change_at is not None:
        mean[change_at:] *= factor
    shape = 1.0 / dispersion**2
    return rng.poisson(rng.gamma(shape, mean / shape))
