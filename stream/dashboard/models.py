"""The JSON shapes of the dashboard API (FastAPI turns these into the OpenAPI document at ``/docs``)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class WindowStats(BaseModel):
    count: int = Field(description="scored articles in the window (volume)")
    mean: float = Field(description="mean signed score P(pos) - P(neg), -1..1")
    pos_share: float = Field(description="share of articles labelled positive")
    neg_share: float = Field(description="share of articles labelled negative")


class TickerSummary(BaseModel):
    ticker: str
    last_ts_ms: int | None = Field(description="event time of the newest article, epoch ms")
    ewma: float | None = Field(description="time-decayed mean score (half-life from ewma_halflife_s)")
    windows: dict[str, WindowStats] = Field(description="rolling windows ending at the newest article, by name")
    mean: float = Field(description="mean score in the current (shortest) window")
    volume: int = Field(description="articles in the current (shortest) window")
    move: float = Field(description="current-window mean minus longest-window mean (how far it moved)")


class TickerList(BaseModel):
    windows: list[str] = Field(description="window names, shortest first; the first is 'current'")
    tickers: list[TickerSummary]
    movers: list[TickerSummary] = Field(description="largest |move| first, tickers with articles only")


class SeriesPoint(BaseModel):
    t_ms: int = Field(description="bucket start, epoch ms (event time)")
    count: int
    mean: float = Field(description="mean signed score of the bucket, -1..1")


class Headline(BaseModel):
    id: str
    ts_ms: int
    label: str
    score: float
    text: str
    source: str | None = None
    model_version: str | None = None


class TickerSeries(BaseModel):
    ticker: str
    window: str
    bucket_ms: int
    points: list[SeriesPoint] = Field(description="non-empty buckets of the window, oldest first")
    headlines: list[Headline] = Field(description="most recent scored headlines, newest first")


class AlertItem(BaseModel):
    entry_id: str | None = Field(None, description="Redis Stream entry id (resume point for live updates)")
    payload: dict[str, Any] = Field(description="the alert payload (stream.alerts.payload.build_alert)")


class AlertFeed(BaseModel):
    active: list[dict[str, Any]] = Field(description="alerts firing now")
    recent: list[AlertItem] = Field(description="recent notifications, newest first")


class SilenceIn(BaseModel):
    ticker: str | None = Field(None, description="e.g. AAPL; omit to match every ticker")
    rule: Literal["ewma", "cusum", "volume"] | None = Field(None, description="omit to match every rule")
    duration: str = Field("2h", description="how long, e.g. 30m, 2h, 1d12h or plain seconds")
    comment: str = ""
    created_by: str = "dashboard"


class SilenceOut(BaseModel):
    id: str
    ticker: str | None
    rule: str | None
    starts_at: float = Field(description="epoch seconds")
    ends_at: float = Field(description="epoch seconds")
    comment: str
    created_by: str
    active: bool


class WorkerStatus(BaseModel):
    url: str
    up: bool
    ready: bool | None = None
    error: str | None = None
    model_version: str | None = None
    messages_per_s: float | None = None
    dead_letter_rate: float | None = Field(None, description="dead-lettered / received since the last scrape")
    batch_latency_s: float | None = Field(None, description="mean end-to-end latency since the last scrape")
    last_batch_age_s: float | None = None


class Health(BaseModel):
    redis: bool
    redis_error: str | None = None
    workers: list[WorkerStatus]
    messages_per_s: float | None = Field(None, description="summed over reachable workers")
    dead_letter_rate: float | None = Field(None, description="the highest among the workers")
    batch_latency_s: float | None = Field(None, description="the slowest worker's mean latency")
    note: str | None = None
