"""The web dashboard: a page and a JSON API over the Redis data the stream workers and alert agents write.

    settings (DashboardSettings + the shared Settings) -> app (FastAPI routes, auth)
        -> queries (tickers, series, headlines) / alerts (feed, silences) / health (worker scrapes)
        -> events (server-sent events for the page) ; static/ (the page: plain JS and an SVG chart)

``finsentry dashboard`` starts it (``cli``). Importing this package imports neither FastAPI nor Redis.
"""
