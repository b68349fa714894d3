"""Classification quality: accuracy, macro-F1, per-class figures, confusion matrix and calibration error,
and a paired bootstrap interval for the macro-F1 difference of two models scored on the same texts."""
from __future__ import annotations

import numpy as np
from scipy.stats import bootstrap
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from models.labels import LABELS


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE with equal-width confidence bins (Guo et al., 2017)."""
    conf = probs.max(1)
    correct = (probs.argmax(1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(ece)


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    return float(f1_score(y, pred, labels=range(len(LABELS)), average="macro", zero_division=0))


def source_mean_macro_f1(y: np.ndarray, pred: np.ndarray, sources) -> float:
    """The mean over sources of each source's macro-F1: every source counts alike, however many texts it has
    (the pooled macro-F1 lets the largest source decide). One source, or none given: the pooled macro-F1."""
    y, pred = np.asarray(y), np.asarray(pred)
    if sources is None:
        return macro_f1(y, pred)
    sources = np.asarray(sources)
    if sources.shape != y.shape:
        raise ValueError(f"expected one source per text ({y.shape[0]}), got {sources.shape[0]}")
    names = np.unique(sources)
    return float(np.mean([macro_f1(y[sources == n], pred[sources == n]) for n in names]))


def _macro_f1_batched(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Macro-F1 over the last axis, for any leading (resample) axes; equals :func:`macro_f1` on 1-D input."""
    f1 = []
    for c in range(len(LABELS)):
        tp = ((pred == c) & (y == c)).sum(-1)
        # F1 = 2tp / (2tp + fp + fn); a class absent from both counts 0, as sklearn's zero_division=0 does
        denom = (pred == c).sum(-1) + (y == c).sum(-1)
        f1.append(np.divide(2 * tp, denom, out=np.zeros(np.shape(denom), dtype=float), where=denom > 0))
    return np.mean(f1, axis=0)


def macro_f1_difference(y: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, confidence: float = 0.95,
                        n_resamples: int = 2000, seed: int = 0) -> dict:
    """macro-F1(a) - macro-F1(b) on the same texts, with a paired bootstrap interval (BCa).

    The texts are resampled together for both models, so the interval reflects how much the difference
    depends on which texts happened to be held out; an interval that contains 0 means the held-out set
    cannot tell the two models apart."""
    y, pred_a, pred_b = (np.asarray(v, dtype=np.int64) for v in (y, pred_a, pred_b))
    if not (y.shape == pred_a.shape == pred_b.shape) or y.ndim != 1:
        raise ValueError(f"expected three 1-D arrays of one length, got shapes {y.shape}, {pred_a.shape}, {pred_b.shape}")
    diff = float(_macro_f1_batched(y, pred_a) - _macro_f1_batched(y, pred_b))
    if len(y) < 2 or np.array_equal(pred_a, pred_b):
        return {"diff": diff, "ci": [diff, diff], "confidence": confidence}

    def stat(y_, a_, b_, axis=-1):
        return _macro_f1_batched(y_, a_) - _macro_f1_batched(y_, b_)

    res = bootstrap((y, pred_a, pred_b), stat, paired=True, vectorized=True, confidence_level=confidence,
                    n_resamples=n_resamples, method="BCa", rng=np.random.default_rng(seed))
    lo, hi = res.confidence_interval
    return {"diff": diff, "ci": [float(lo), float(hi)], "confidence": confidence}


def format_difference(d: dict) -> str:
    """'+0.0123 [-0.0101, +0.0345]': a macro-F1 difference and its bootstrap interval."""
    lo, hi = d["ci"]
    return f"{d['diff']:+.4f} [{lo:+.4f}, {hi:+.4f}]"


def classification_report(probs: np.ndarray, y: np.ndarray) -> dict:
    pred = probs.argmax(1)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(len(LABELS)), zero_division=0)
    return {
        "n": int(len(y)),
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": macro_f1(y, pred),
        "per_class": {name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, name in enumerate(LABELS)},
        "confusion": confusion_matrix(y, pred, labels=range(len(LABELS))).tolist(),
        "ece": expected_calibration_error(probs, y),
    }


def label_ids(labels) -> np.ndarray:
    return np.asarray([LABELS.index(x) for x in labels], dtype=np.int64)
