"""Errors of the alerts subpackage; all derive from the stream package's root ``StreamError``."""
from __future__ import annotations

from stream.errors import ConfigError, StreamError


class AlertError(StreamError):
    """Base class for errors raised by ``stream.alerts``."""


class AlertConfigError(AlertError, ConfigError):
    """A rule, lifecycle, silence or delivery parameter is out of range (raised at start-up)."""


class StateConflict(AlertError):
    """Another writer kept changing a ticker's state; the compare-and-set gave up after retries."""
