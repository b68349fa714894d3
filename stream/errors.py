"""One root exception for the stream package; messages say what was expected and what arrived."""
from __future__ import annotations


class StreamError(Exception):
    """Root of every error raised by ``stream``."""


class ConfigError(StreamError, ValueError):
    """A setting, flag or config file value is invalid."""


class SinkError(StreamError):
    """A sink could not write a batch; the batch is retried and its offsets are not committed."""


class InvalidMessage(StreamError, ValueError):
    """An input message breaks the contract; it goes to the dead-letter topic with ``reason``."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
