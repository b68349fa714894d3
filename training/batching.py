"""Length-bucketed mini-batches: similar lengths together, so little compute goes on padding."""
from __future__ import annotations

import numpy as np


def bucketed_batches(lengths, batch_size: int, rng: np.random.Generator, shuffle: bool = True) -> list[np.ndarray]:
    """Indices grouped into batches of similar length; batch order (and ties) shuffled when ``shuffle``."""
    lengths = np.asarray(lengths)
    idx = rng.permutation(len(lengths)) if shuffle else np.arange(len(lengths))
    # Sort within chunks of 50 batches: close lengths per batch, but still a different mix every epoch.
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(idx), chunk):
        part = idx[start:start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches
