"""Scoring: texts -> scores off the event loop, and (item, score) -> ``ScoredRecord``.

The model is any ``score_many(texts) -> list[Score]`` callable (``models.Predictor.predict`` in production, a
plain function in tests); ``Inference`` runs it in a one-thread executor so heartbeats never stall.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Awaitable, Callable, Mapping, Protocol, Sequence

from models import ModelError

from .records import DeadLetter, NewsItem, Reason, ScoredRecord, iso_ms


class ScoreLike(Protocol):
    label: str
    probs: Mapping[str, float]
    score: float


ScoreMany = Callable[[Sequence[str]], Sequence[ScoreLike]]
AsyncScoreMany = Callable[[Sequence[str]], Awaitable[Sequence[ScoreLike]]]


class Inference:
    """``await inference(texts)``: runs ``score_many`` in a dedicated thread."""

    def __init__(self, score_many: ScoreMany):
        self.score_many = score_many
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="finsentry-inference")

    async def __call__(self, texts: Sequence[str]) -> Sequence[ScoreLike]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(self.score_many, list(texts)))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


async def score_items(items: Sequence[NewsItem], infer: AsyncScoreMany
                      ) -> tuple[list[tuple[NewsItem, ScoreLike]], list[DeadLetter]]:
    """Score a batch. If the model rejects the batch (``ModelError``), score item by item and dead-letter the
    items it rejects; any other exception is systemic and propagates, so the batch is retried."""
    if not items:
        return [], []
    try:
        scores = await infer([item.text for item in items])
    except ModelError:
        scores = None
    if scores is not None:
        if len(scores) != len(items):
            raise RuntimeError(f"model returned {len(scores)} scores for {len(items)} texts; expected one each")
        return list(zip(items, scores)), []
    scored, dead = [], []
    for item in items:
        try:
            (score,) = await infer([item.text])
            scored.append((item, score))
        except ModelError as exc:
            dead.append(DeadLetter(item.raw, Reason.MODEL_ERROR, str(exc)))
    return scored, dead


def to_record(item: NewsItem, score: ScoreLike, model_version: str, now_ms: int) -> ScoredRecord:
    return ScoredRecord(
        id=item.id, ts=iso_ms(item.ts_ms), ts_ms=item.ts_ms, tickers=list(item.tickers), label=score.label,
        probabilities={k: float(v) for k, v in score.probs.items()}, score=float(score.score),
        model_version=model_version, latency_ms=float(max(0, now_ms - item.raw.timestamp_ms)), text=item.text,
        source=item.source)
