"""Rolling-window definitions: ``"5m,1h,1d"`` -> windows of fixed-size event-time buckets."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from .errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"^(\d+)([smhd]?)$")


def parse_duration(text: str) -> int:
    """``"90s"``, ``"5m"``, ``"1h"``, ``"1d"`` or plain seconds ``"300"`` -> seconds."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"window must be a positive duration like 30s, 5m, 1h or 1d; got {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


@dataclass(frozen=True, slots=True)
class Window:
    """A window of ``buckets`` buckets of ``bucket_ms`` each; it covers the buckets ending at the bucket of the
    newest event, i.e. between ``span_ms - bucket_ms`` and ``span_ms`` of event time."""

    name: str
    span_ms: int
    buckets: int

    @property
    def bucket_ms(self) -> int:
        return self.span_ms // self.buckets

    def spec(self) -> str:
        """The form the Redis script reads: ``name:bucket_ms:buckets``."""
        return f"{self.name}:{self.bucket_ms}:{self.buckets}"


def parse_windows(names: Iterable[str], buckets: int = 60) -> tuple[Window, ...]:
    windows = []
    for name in names:
        span_ms = parse_duration(name) * 1000
        if span_ms % buckets:
            raise ConfigError(f"window {name!r} ({span_ms} ms) must divide into {buckets} whole-millisecond "
                              "buckets; choose another window or window_buckets")
        windows.append(Window(name.strip(), span_ms, buckets))
    if not windows:
        raise ConfigError("expected at least one window, e.g. '5m,1h,1d'; got none")
    if len({w.name for w in windows}) != len(windows):
        raise ConfigError(f"window names must be unique; got {[w.name for w in windows]}")
    return tuple(windows)
