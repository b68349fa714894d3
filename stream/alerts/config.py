"""Alert configuration: one frozen object, validated at start-up (rule ranges included).

The stream owner's ``Settings`` can embed it as a field (``alerts: AlertConfig``) so that it is
built from flags, environment (``FINSENTRY_ALERTS__EWMA__LIMIT=4.5`` with a ``__`` nested
delimiter) or the TOML file like every other setting.
"""
from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from stream.alerts.detectors import CUSUM, EWMAChart, ShiftDetector, VolumeDetector
from stream.alerts.lifecycle import Timing

_FROZEN = ConfigDict(frozen=True, extra="forbid")
KEEP_FIRING_FOR = 10  # articles; the volume rule counts windows and keeps 1
_LIFECYCLE_FIELDS = {"enabled", "for_articles", "for_seconds", "repeat_interval_s", "keep_firing_for"}


class RuleConfig(BaseModel):
    model_config = _FROZEN
    enabled: bool = True
    for_articles: int = Field(2, ge=0, description="articles the condition must hold before firing")
    for_seconds: float = Field(0.0, ge=0, description="event-time seconds the condition must hold")
    repeat_interval_s: float = Field(0.0, ge=0, description="re-notify a still-firing alert; 0 = never")
    keep_firing_for: int = Field(KEEP_FIRING_FOR, ge=0, description="articles (volume: windows) a firing alert "
                                 "stays firing after its condition clears; a return within them is the same episode")

    @cached_property
    def timing(self) -> Timing:
        return Timing(self.for_articles, self.for_seconds, self.repeat_interval_s, self.keep_firing_for)

    def detector_kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if k not in _LIFECYCLE_FIELDS | {"window_s"}}


class EWMARule(RuleConfig):
    lam: float = 0.1
    limit: float = 4.0
    clear: float = 1.0
    cool: int = 10
    alpha: float = 0.005
    min_articles: int = 50
    lag: int = 50
    clip: float = 2.0
    sigma_floor: float = 0.05


class CUSUMRule(RuleConfig):
    k: float = 0.5
    h: float = 10.0
    clear: float = 2.0
    cool: int = 5
    alpha: float = 0.005
    min_articles: int = 50
    lag: int = 50
    clip: float = 3.0
    sigma_floor: float = 0.05


class VolumeRule(RuleConfig):
    for_articles: int = Field(0, ge=0)
    keep_firing_for: int = Field(1, ge=0, description="windows a firing alert stays firing after its condition clears")
    window_s: float = Field(300.0, gt=0, description="tumbling window length for counting articles")
    alpha: float = 0.01
    limit: float = 5.5
    clear: float = 1.0
    min_windows: int = 24
    min_count: int = 6
    cool: int = 3
    lag: int = 6
    clip: float = 4.0
    sigma_floor: float = 1.0
    two_sided: bool = False


class WebhookConfig(BaseModel):
    model_config = _FROZEN
    # Secret like the signing key: many receivers (Slack, Teams, PagerDuty) put a credential in the URL.
    url: SecretStr = Field(description="http:// or https:// endpoint")
    secret: SecretStr | None = Field(None, description="HMAC-SHA256 signing key (X-Finsentry-Signature)")
    timeout_s: float = Field(5.0, gt=0)
    max_attempts: int = Field(5, ge=1)
    backoff_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(30.0, ge=0)


    @field_validator("url")
    @classmethod
    def _http(cls, url: SecretStr) -> SecretStr:
        if not url.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return url


class AlertConfig(BaseModel):
    model_config = _FROZEN
    enabled: bool = True
    input_topic: str = "news.by_ticker"
    weighting: Literal["none", "confidence"] = "none"
    ewma: EWMARule = EWMARule()
    cusum: CUSUMRule = CUSUMRule()
    volume: VolumeRule = VolumeRule()
    evidence_size: int = Field(40, ge=1, description="recent articles kept per ticker as evidence")
    top_headlines: int = Field(5, ge=0)
    key_prefix: str = "fs:alerts"
    stream_key: str = "fs:alerts:stream"
    stream_maxlen: int = Field(100_000, ge=1)
    channel: str = "fs:alerts:live"
    dispatch_group: str = "finsentry-dispatch"
    seen_max: int = Field(20_000, ge=1, description="message ids remembered per ticker for idempotence")
    seen_ttl_s: int = Field(7 * 86400, ge=1)
    silence_cache_s: float = Field(2.0, ge=0)
    webhooks: tuple[WebhookConfig, ...] = ()

    @model_validator(mode="after")
    def _build_once(self) -> AlertConfig:
        self.detectors()  # range checks live in the detectors; fail at start-up, not at first article
        return self

    def rules(self) -> dict[str, RuleConfig]:
        return {name: rule for name, rule in (("ewma", self.ewma), ("cusum", self.cusum),
                                              ("volume", self.volume)) if rule.enabled}

    def detectors(self) -> dict[str, ShiftDetector]:
        kinds = {"ewma": EWMAChart, "cusum": CUSUM, "volume": VolumeDetector}
        return {name: kinds[name](**rule.detector_kwargs()) for name, rule in self.rules().items()}
