"""``finsentry dashboard [--host H] [--port P]``: one uvicorn process serving the page and the API."""
from __future__ import annotations

import argparse
import logging
import sys

from ..errors import ConfigError
from ..settings import load_settings
from .settings import check_bind, load_dashboard_settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="finsentry dashboard",
                                description="Serve the live sentiment dashboard and its JSON API from Redis.")
    p.add_argument("--host", help="address to bind (default 127.0.0.1; FINSENTRY_DASHBOARD_HOST). Anything but "
                                  "loopback needs an API token (FINSENTRY_API_TOKEN)")
    p.add_argument("--port", type=int, help="port (default 8080; FINSENTRY_DASHBOARD_PORT)")
    p.add_argument("--workers", help="comma-separated worker metrics URLs to scrape for health, e.g. "
                                     "http://127.0.0.1:9100; dns+http://NAME:9100 scrapes every address NAME "
                                     "resolves to (FINSENTRY_DASHBOARD_WORKERS)")
    p.add_argument("--redis-url", help="Redis URL (FINSENTRY_REDIS_URL)")
    p.add_argument("--config", help="TOML settings file (also FINSENTRY_CONFIG)")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def main(command: str, argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings({"redis_url": args.redis_url, "log_level": args.log_level}, args.config)
        dash = load_dashboard_settings({"host": args.host, "port": args.port, "workers": args.workers})
        check_bind(dash.host, settings.api_token is not None)
    except ConfigError as exc:
        print(f"finsentry {command}: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import uvicorn

    from .app import create_app

    logging.getLogger(__name__).info("dashboard on http://%s:%d (redis %s, %d workers to scrape, auth %s)",
                                     dash.host, dash.port, settings.redacted()["redis_url"], len(dash.workers),
                                     "on" if settings.api_token else "off")
    uvicorn.run(create_app(settings, dash), host=dash.host, port=dash.port, log_level=settings.log_level.lower(),
                access_log=False)
    return 0
