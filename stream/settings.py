"""One frozen settings object per process, built at the entrypoint from flags > env (``FINSENTRY_*``) >
optional TOML file > defaults, then passed down. Library code never reads the environment."""
from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, InitSettingsSource, NoDecode, SettingsConfigDict

from .alerts.config import AlertConfig
from .errors import ConfigError
from .windows import Window, parse_windows

# Values read from the TOML file for the Settings being built (the lowest-priority source), and the
# environment it is built from (None: the process environment).
_file_values: ContextVar[dict[str, Any]] = ContextVar("finsentry_file_values", default={})
_environ: ContextVar[Mapping[str, str] | None] = ContextVar("finsentry_environ", default=None)


class _EnvSource(EnvSettingsSource):
    """``FINSENTRY_*`` variables from the mapping given to ``load_settings`` (the process's by default)."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        environ = _environ.get()
        if environ is None:
            return super()._load_env_vars()
        return {(k if self.case_sensitive else k.lower()): v for k, v in environ.items()
                if not (self.env_ignore_empty and v == "")}

DAY = 86_400


class Settings(BaseSettings):
    # Nested values (the alert rules) from the environment: FINSENTRY_ALERTS__EWMA__LIMIT=4.5.
    model_config = SettingsConfigDict(env_prefix="FINSENTRY_", env_nested_delimiter="__", frozen=True,
                                      extra="forbid")

    # Kafka; security options are passed through to faust/aiokafka and kafka-python.
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    group_id: str = "finsentry"
    input_topic: str = "news"
    output_topic: str = "news.scored"
    dlq_topic: str = "news.dlq"
    by_ticker_topic: str = "news.by_ticker"
    alerts_topic: str = "alerts"
    # Shift alerts (stream.alerts): the worker forwards TickerScores to by_ticker_topic and runs the detection
    # agent and alert dispatchers; rules, delivery and keys live in `alerts` ([alerts] in TOML).
    alerts_enabled: bool = True
    alerts: AlertConfig = AlertConfig()
    # The alert agent's batches: each ticker in a batch costs a state load and save (two round trips per
    # batch in all), so batches larger than the scoring agent's amortise that over more articles; alerts are
    # minutes-scale anyway, so up to 2 s of batching delay is invisible to subscribers.
    alerts_max_batch: int = Field(1024, ge=1)  # by-ticker records, each holding one ticker's scores of a batch
    alerts_max_wait_s: float = Field(2.0, gt=0)
    topic_partitions: int = Field(4, ge=1)
    topic_replication: int = Field(1, ge=1)
    # Tests and the demo use 6 s / 1 s so that group joins take seconds, not half a minute.
    broker_session_timeout_s: float = Field(30.0, gt=0)
    broker_heartbeat_interval_s: float = Field(3.0, gt=0)
    kafka_fetch_max_wait_ms: int = Field(50, ge=1, le=30_000)  # bounds latency when partitions are quiet

    # Redis: a password in redis_url works too, but prefer redis_password (never logged).
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_username: str | None = None
    redis_password: SecretStr | None = None
    redis_ssl_ca_file: Path | None = None  # with a rediss:// URL
    redis_timeout_s: float = Field(5.0, gt=0)

    # Model and batching
    model_dir: Path = Path("models/default")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    infer_batch_size: int = Field(64, ge=1)
    # torch intra-op threads for inference; 0 = torch's default (one per core). One per worker is the default:
    # scale out with more workers in the group. Several threads per process thrash as soon as anything else
    # wants the cores (measured 10x slower on a busy 2-core machine, see benchmarks/RESULTS.md).
    torch_threads: int = Field(1, ge=0)
    max_batch: int = Field(256, ge=1)
    max_wait_s: float = Field(0.05, gt=0)

    # Input validation and ticker extraction
    max_message_bytes: int = Field(65_536, ge=64)
    max_text_chars: int = Field(2_000, ge=1)
    max_tickers: int = Field(20, ge=1)
    symbols_file: Path | None = None  # JSON {"AAPL": ["Apple", "Apple Inc"]}; built-in list when unset

    # Redis data model (docs/redis.md)
    doc_ttl_s: int = Field(7 * DAY, ge=1)
    ticker_ttl_s: int = Field(7 * DAY, ge=1)
    ticker_retention_s: int = Field(2 * DAY, ge=1)
    windows: Annotated[tuple[str, ...], NoDecode] = ("5m", "1h", "1d")
    window_buckets: int = Field(60, ge=1, le=1000)
    ewma_halflife_s: float = Field(3600.0, gt=0)

    # Retries of failed batch writes (capped exponential backoff)
    retry_initial_s: float = Field(0.2, gt=0)
    retry_max_s: float = Field(10.0, gt=0)

    # Worker HTTP: /metrics, /healthz, /readyz
    metrics_host: str = "0.0.0.0"
    metrics_port: int = Field(9100, ge=0, le=65535)
    api_token: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("windows", mode="before")
    @classmethod
    def _split_windows(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return tuple(value)

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        parse_windows(self.windows, self.window_buckets)  # raises ConfigError naming the bad window
        if self.broker_heartbeat_interval_s * 3 > self.broker_session_timeout_s:
            raise ValueError(
                f"broker_heartbeat_interval_s must be at most a third of broker_session_timeout_s; got "
                f"{self.broker_heartbeat_interval_s} and {self.broker_session_timeout_s}")
        if self.kafka_security_protocol.startswith("SASL") and not (
                self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(f"kafka_security_protocol={self.kafka_security_protocol} needs "
                             "kafka_sasl_username and kafka_sasl_password")
        if self.retry_initial_s > self.retry_max_s:
            raise ValueError(f"retry_initial_s ({self.retry_initial_s}) must not exceed retry_max_s "
                             f"({self.retry_max_s})")
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return init_settings, _EnvSource(settings_cls), InitSettingsSource(settings_cls, dict(_file_values.get()))

    @property
    def alerts_active(self) -> bool:
        """Whether the worker runs the shift alerts (``alerts_enabled`` and ``alerts.enabled``)."""
        return self.alerts_enabled and self.alerts.enabled

    @property
    def parsed_windows(self) -> tuple[Window, ...]:
        return parse_windows(self.windows, self.window_buckets)

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict safe to log: secrets masked, URL passwords removed."""
        out = self.model_dump(mode="json")
        for name, value in out.items():
            if isinstance(getattr(self, name), SecretStr) and value is not None:
                out[name] = "**********"
        out["redis_url"] = redact_url(self.redis_url)
        return out


def redact_url(url: str) -> str:
    """``redis://user:secret@host:6379/0`` -> ``redis://user:***@host:6379/0``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def load_settings(flags: Mapping[str, Any] | None = None, config_file: str | Path | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Build the process's settings. ``flags`` (None values ignored) beat ``FINSENTRY_*`` variables, which beat
    the TOML file (``config_file`` or ``FINSENTRY_CONFIG``), which beats the defaults."""
    path = config_file or (os.environ if environ is None else environ).get("FINSENTRY_CONFIG")
    file_values = _read_toml(Path(path)) if path else {}
    tokens = _file_values.set(file_values), _environ.set(environ)
    try:
        return Settings(**{k: v for k, v in (flags or {}).items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from None
    finally:
        _file_values.reset(tokens[0])
        _environ.reset(tokens[1])


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    data = data.get("finsentry", data)  # accept a [finsentry] table or top-level keys
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"config file {path}: unknown settings {unknown}; expected names from "
                          "stream.settings.Settings (e.g. kafka_bootstrap, redis_url, max_batch)")
    return data
