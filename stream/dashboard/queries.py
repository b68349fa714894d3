"""Reads of the stream workers' Redis data model (the keys written by ``stream.sinks.redis``): the ticker
index, per-ticker aggregates, bucketed series and recent scored headlines."""
from __future__ import annotations

from typing import Any

from ..sinks.redis import TICKERS_KEY, buckets_key, doc_key, parse_bucket, ticker_keys, window_head
from ..windows import Window
from .models import Headline, SeriesPoint, TickerList, TickerSeries, TickerSummary, WindowStats

HEADLINE_FIELDS = ("id", "ts_ms", "label", "score", "text", "source", "model_version")


def _f(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def summary(ticker: str, agg: dict[str, str], windows: tuple[Window, ...]) -> TickerSummary:
    stats = {w.name: WindowStats(count=int(_f(agg.get(f"{w.name}:count"))), mean=_f(agg.get(f"{w.name}:mean")),
                                 pos_share=_f(agg.get(f"{w.name}:pos_share")),
                                 neg_share=_f(agg.get(f"{w.name}:neg_share"))) for w in windows}
    current, longest = stats[windows[0].name], stats[windows[-1].name]
    return TickerSummary(ticker=ticker, last_ts_ms=int(agg["last_ts"]) if agg.get("last_ts") else None,
                         ewma=_f(agg["ewma"]) if "ewma" in agg else None, windows=stats, mean=current.mean,
                         volume=current.count, move=current.mean - longest.mean if current.count else 0.0)


class TickerQueries:
    """``redis`` must decode responses (``decode_responses=True``)."""

    def __init__(self, redis: Any, windows: tuple[Window, ...], *, max_tickers: int, movers: int):
        self.redis = redis
        self.windows = tuple(sorted(windows, key=lambda w: w.span_ms))
        self.max_tickers, self.movers = max_tickers, movers

    def window(self, name: str | None) -> Window:
        for w in self.windows:
            if name in (None, w.name):
                return w
        raise KeyError(f"unknown window {name!r}; expected one of {[w.name for w in self.windows]}")

    async def tickers(self) -> TickerList:
        names = await self.redis.zrevrange(TICKERS_KEY, 0, self.max_tickers - 1)
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(ticker_keys(name)[2])
            aggs = await pipe.execute()
        items = [summary(n, a, self.windows) for n, a in zip(names, aggs) if a]  # expired ones drop out
        movers = sorted((t for t in items if t.volume), key=lambda t: -abs(t.move))[:self.movers]
        return TickerList(windows=[w.name for w in self.windows], tickers=items, movers=movers)

    async def series(self, ticker: str, window_name: str | None, headlines: int) -> TickerSeries | None:
        window = self.window(window_name)
        zdocs, _, agg = ticker_keys(ticker)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(agg, f"{window.name}:state")
            pipe.hgetall(buckets_key(ticker, window.name))
            pipe.zrevrange(zdocs, 0, headlines - 1)
            state, raw, ids = await pipe.execute()
        head = window_head(state)
        if head is None and not ids:
            return None
        return TickerSeries(ticker=ticker, window=window.name, bucket_ms=window.bucket_ms,
                            points=self._points(window, head, raw), headlines=await self._headlines(ids))

    @staticmethod
    def _points(window: Window, head: int | None, raw: dict[str, str]) -> list[SeriesPoint]:
        if head is None:
            return []
        first = head - window.buckets + 1
        sums: dict[int, tuple[int, float]] = {}
        for key, value in raw.items():  # bucket index -> "count sum pos neg"
            n, s, _, _ = parse_bucket(value)
            if int(key) >= first:
                sums[int(key)] = (n, s)
        return [SeriesPoint(t_ms=i * window.bucket_ms, count=n, mean=s / n)
                for i, (n, s) in sorted(sums.items()) if n > 0]

    async def _headlines(self, ids: list[str]) -> list[Headline]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for doc_id in ids:
                pipe.hmget(doc_key(doc_id), *HEADLINE_FIELDS)
            rows = await pipe.execute()
        out = []
        for row in rows:
            doc = dict(zip(HEADLINE_FIELDS, row))
            if doc["id"] is None:  # the document expired before the ticker's index was trimmed
                continue
            out.append(Headline(id=doc["id"], ts_ms=int(doc["ts_ms"] or 0), label=doc["label"] or "",
                                score=_f(doc["score"]), text=doc["text"] or "", source=doc["source"],
                                model_version=doc["model_version"]))
        return out
