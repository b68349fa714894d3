"""The FastAPI application: the page, the JSON API under ``/api`` and live updates at ``/api/events``."""
from __future__ import annotations

from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from ..alerts.agent import config_from_settings
from ..alerts.errors import AlertConfigError
from ..clients import async_redis
from ..settings import Settings
from .alerts import AlertQueries
from .auth import TokenGuard
from .events import live_events
from .health import HealthMonitor
from .models import AlertFeed, Health, SilenceIn, SilenceOut, TickerList, TickerSeries
from .queries import TickerQueries
from .settings import DashboardSettings

STATIC = files("stream.dashboard") / "static"
DESCRIPTION = """Live per-ticker sentiment, alerts, silences and pipeline health of a finsentry deployment, read
from the stream workers' Redis. Scores are signed: P(positive) - P(negative), from -1 to 1. Times are epoch
milliseconds of event time unless a field says otherwise. With an API token configured, send it as
`Authorization: Bearer <token>` (or `?token=` for `/api/events`)."""


def create_app(settings: Settings, dash: DashboardSettings) -> FastAPI:
    guard = TokenGuard(settings.api_token)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        redis = async_redis(settings, decode_responses=True)
        app.state.tickers = TickerQueries(redis, settings.parsed_windows, max_tickers=dash.max_tickers,
                                          movers=dash.movers)
        app.state.alerts = AlertQueries(redis, config_from_settings(settings))
        app.state.health = HealthMonitor(dash.workers, dash.scrape_timeout_s, redis)
        try:
            yield
        finally:
            await app.state.health.close()
            await redis.aclose()

    app = FastAPI(title="finsentry dashboard", version="1", description=DESCRIPTION, lifespan=lifespan)
    api = [Depends(guard)]

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/healthz", summary="Liveness of the dashboard process (no token needed)")
    async def healthz() -> dict:
        return {"status": "ok", "auth": guard.enabled}

    @app.get("/api/tickers", response_model=TickerList, dependencies=api,
             summary="Tickers with current mean, volume, EWMA and rolling windows; top movers")
    async def tickers(request: Request) -> TickerList:
        return await request.app.state.tickers.tickers()

    @app.get("/api/tickers/{ticker}", response_model=TickerSeries, dependencies=api,
             summary="One ticker's bucketed mean score over a window, and its recent scored headlines")
    async def ticker_series(request: Request, ticker: str,
                            window: str | None = Query(None, description="window name; default: the shortest"),
                            headlines: int = Query(dash.headlines, ge=0, le=500)) -> TickerSeries:
        try:
            found = await request.app.state.tickers.series(ticker.upper(), window, headlines)
        except KeyError as exc:
            raise HTTPException(422, detail=exc.args[0]) from None
        if found is None:
            raise HTTPException(404, detail=f"no data for ticker {ticker.upper()!r}")
        return found

    @app.get("/api/alerts", response_model=AlertFeed, dependencies=api,
             summary="Alerts firing now and recent alert notifications, newest first")
    async def alerts(request: Request, state: Literal["firing", "resolved"] | None = None,
                     ticker: str | None = None, limit: int = Query(50, ge=1, le=1000)) -> AlertFeed:
        return await request.app.state.alerts.feed(limit, state, ticker.upper() if ticker else None)

    @app.get("/api/silences", response_model=list[SilenceOut], dependencies=api,
             summary="Silences in force (with all=true, also those expired in the last day)")
    async def silences(request: Request, all: bool = False) -> list[SilenceOut]:
        return await request.app.state.alerts.list_silences(all)

    @app.post("/api/silences", response_model=SilenceOut, status_code=201, dependencies=api,
              summary="Mute alerts of a ticker and/or rule for a while")
    async def add_silence(request: Request, body: SilenceIn) -> SilenceOut:
        try:
            return await request.app.state.alerts.add_silence(body)
        except AlertConfigError as exc:
            raise HTTPException(422, detail=str(exc)) from None

    @app.post("/api/silences/{silence_id}/expire", response_model=SilenceOut, dependencies=api,
              summary="End a silence now (it stays listed with all=true for a day)")
    async def expire_silence(request: Request, silence_id: str) -> SilenceOut:
        found = await request.app.state.alerts.expire_silence(silence_id)
        if found is None:
            raise HTTPException(404, detail=f"no silence with id {silence_id!r}")
        return found

    @app.get("/api/health", response_model=Health, dependencies=api,
             summary="Redis reachability and each worker's status, throughput, dead-letter rate and latency")
    async def health(request: Request) -> Health:
        return await request.app.state.health.check()

    @app.get("/api/events", dependencies=api, response_class=StreamingResponse,
             summary="Server-sent events: tickers, alert, health (and problem when Redis fails)")
    async def events(request: Request, after: str | None = Query(
            None, description="alert stream entry id to resume after (default: from now on)")) -> StreamingResponse:
        state = request.app.state
        stream = live_events(state.tickers, state.alerts, state.health, refresh_s=dash.refresh_s,
                             disconnected=request.is_disconnected,
                             last_alert_id=request.headers.get("last-event-id") or after or "$")
        return StreamingResponse(stream, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app
