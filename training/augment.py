"""Perturbed copies of the labelled texts for the transfer set (Tang et al., 2019, "Distilling Task-Specific
Knowledge from BERT into Simple Neural Networks").

A small student learns from the teacher's outputs, not from the labels, so any text the teacher can label is
training data. Copies of the in-domain sentences with some words masked, replaced or cut away give the student
many near neighbours of each sentence, each with the teacher's (often different) distribution: it learns which
words carry the sentiment. The copies carry no hard label; only the teacher's targets are used for them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .errors import TrainingError


REPLACE_WITH = ("corpus", "neighbours")


@dataclass(frozen=True)
class AugmentArgs:
    copies: int = 0            # perturbed copies per labelled text (0 = none)
    p_mask: float = 0.1        # a word becomes the mask token
    p_replace: float = 0.1     # a word becomes a random word of the corpus (drawn by frequency)
    p_span: float = 0.25       # the copy is cut down to a random span of words
    min_span: int = 3
    mask_token: str = "[MASK]"
    replace_with: str = "corpus"  # "corpus": a random corpus word; "neighbours": a near word in the teacher's
                                  # embedding space where the word has any (else a corpus word)

    def __post_init__(self):
        bad = [f"{k}={getattr(self, k)}" for k in ("p_mask", "p_replace", "p_span")
               if not 0 <= getattr(self, k) <= 1]
        if self.p_mask + self.p_replace > 1:
            bad.append(f"p_mask+p_replace={self.p_mask + self.p_replace}")
        if self.copies < 0 or self.min_span < 1:
            bad.append(f"copies={self.copies}, min_span={self.min_span}")
        if self.replace_with not in REPLACE_WITH:
            bad.append(f"replace_with={self.replace_with!r} (expected one of {REPLACE_WITH})")
        if bad:
            raise TrainingError(f"bad augmentation arguments {', '.join(bad)}: expected probabilities in [0, 1] "
                                "with p_mask+p_replace <= 1, copies >= 0 and min_span >= 1")


def perturb(words: Sequence[str], vocab: np.ndarray, cdf: np.ndarray, rng: np.random.Generator,
            args: AugmentArgs, neighbours: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """One perturbed copy of a tokenised text; replacements are one of the word's ``neighbours`` where it has
    any, else drawn from ``vocab`` by the cumulative frequencies ``cdf``."""
    r = rng.random(len(words))
    drawn = vocab[np.minimum(np.searchsorted(cdf, rng.random(len(words))), len(vocab) - 1)]
    if neighbours:
        drawn = [near[int(rng.integers(len(near)))] if (near := neighbours.get(w.lower())) else d
                 for w, d in zip(words, drawn)]
    out = [args.mask_token if x < args.p_mask else str(d) if x < args.p_mask + args.p_replace else w
           for w, x, d in zip(words, r, drawn)]
    if len(out) > args.min_span and rng.random() < args.p_span:
        n = int(rng.integers(args.min_span, len(out)))
        start = int(rng.integers(0, len(out) - n + 1))
        out = out[start:start + n]
    return out


def embedding_neighbours(words: Sequence[str], vocab: Mapping[str, int], embeddings: np.ndarray, k: int = 8,
                         min_cos: float = 0.4) -> dict[str, list[str]]:
    """For each word that is one whole piece of a word-piece ``vocab``, its ``k`` nearest whole-word pieces
    by cosine of the ``embeddings`` rows (at least ``min_cos``): with MiniLM's input embeddings "rose" ->
    "rises", "risen", ..., "fell" -> "dropped", "tumbled", ..., and also antonyms ("increased" -> "decreased").

    Replacing words by such neighbours gives copies that read like the original domain, which the teacher
    labels; the student then learns what the teacher knows about near-synonyms from pre-training."""
    cands = [(w, i) for w, i in vocab.items() if w.isalpha() and not w.startswith("##") and len(w) > 1]
    if not cands:
        return {}
    cand_words = [w for w, _ in cands]
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-8)
    cand = unit[[i for _, i in cands]]
    query = sorted({w.lower() for w in words if w.lower() in vocab and w.isalpha() and len(w) > 1})
    out: dict[str, list[str]] = {}
    for start in range(0, len(query), 1024):
        chunk = query[start:start + 1024]
        sims = unit[[vocab[w] for w in chunk]] @ cand.T
        top = np.argsort(-sims, axis=1)[:, : k + 1]
        for w, row, s in zip(chunk, top, sims):
            near = [cand_words[j] for j in row if cand_words[j] != w and s[j] >= min_cos][:k]
            if near:
                out[w] = near
    return out


def augment(texts: Sequence[str], args: AugmentArgs, seed: int = 0, exclude: Sequence[str] = (),
            neighbours: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """``args.copies`` distinct perturbed copies per text (fewer where a text has too few words to vary),
    none equal to a text in ``texts`` or ``exclude``; deterministic for a seed. ``neighbours`` (word ->
    near words) is used when ``args.replace_with`` is "neighbours"."""
    if args.replace_with == "neighbours" and neighbours is None:
        raise TrainingError("replace_with='neighbours' needs a neighbour table (embedding_neighbours); got none")
    if args.copies == 0:
        return []
    rng = np.random.default_rng(seed)
    tokenised = [t.split() for t in texts]
    counts: dict[str, int] = {}
    for words in tokenised:
        for w in words:
            counts[w] = counts.get(w, 0) + 1
    vocab = np.array(list(counts))
    cdf = np.cumsum(np.array(list(counts.values()), dtype=float))
    cdf /= cdf[-1]
    seen = set(texts) | set(exclude)
    out = []
    for words in tokenised:
        if len(words) < 2:
            continue
        made = 0
        for _ in range(3 * args.copies):  # a few tries, since short texts repeat themselves
            copy = " ".join(perturb(words, vocab, cdf, rng, args,
                                    neighbours if args.replace_with == "neighbours" else None))
            if copy not in seen:
                seen.add(copy)
                out.append(copy)
                made += 1
                if made == args.copies:
                    break
    return out
