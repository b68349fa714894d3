"""Dashboard-only settings (``FINSENTRY_DASHBOARD_*``), next to the shared ``stream.settings.Settings``, and the
bind check: without an API token the dashboard serves loopback clients only."""
from __future__ import annotations

import ipaddress
import os
from typing import Annotated, Any, Mapping

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ..errors import ConfigError


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINSENTRY_DASHBOARD_", frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # Worker HTTP endpoints to scrape (their /metrics and /readyz), e.g. "http://10.0.0.5:9100,http://10.0.0.6:9100";
    # "dns+http://worker:9100" means every address the name resolves to (stream.dashboard.health).
    workers: Annotated[tuple[str, ...], NoDecode] = ()
    refresh_s: float = Field(1.0, gt=0, le=60, description="how often live updates are pushed")
    scrape_timeout_s: float = Field(2.0, gt=0)
    max_tickers: int = Field(100, ge=1, le=10_000, description="tickers listed, most recently active first")
    movers: int = Field(5, ge=1, le=100)
    headlines: int = Field(20, ge=1, le=500)

    @field_validator("workers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        urls = tuple(str(v).rstrip("/") for v in value)
        bad = [u for u in urls if not u.removeprefix("dns+").startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"expected worker URLs like http://host:9100 or dns+http://name:9100; got {bad}")
        return urls


def load_dashboard_settings(flags: Mapping[str, Any] | None = None,
                            environ: Mapping[str, str] | None = None) -> DashboardSettings:
    """Flags (None ignored) > ``FINSENTRY_DASHBOARD_*`` variables > defaults."""
    environ = os.environ if environ is None else environ
    prefix = "FINSENTRY_DASHBOARD_"
    values = {k[len(prefix):].lower(): v for k, v in environ.items()
              if k.startswith(prefix) and k[len(prefix):].lower() in DashboardSettings.model_fields}
    values.update({k: v for k, v in (flags or {}).items() if v is not None})
    try:
        # init values only, so that ``environ`` (not the process environment) is what counts
        return DashboardSettings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid dashboard settings: {problems}") from None


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a hostname other than localhost could resolve anywhere


def check_bind(host: str, has_token: bool) -> None:
    """Refuse to expose an unauthenticated dashboard beyond this machine."""
    if not has_token and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve the dashboard on {host!r} without an API token: anyone who can reach it could "
            "read scores and silence alerts. Set FINSENTRY_API_TOKEN (or api_token in the config file), or bind "
            "to 127.0.0.1 / ::1.")
