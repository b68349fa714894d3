"""Capped exponential backoff for batch steps that must eventually succeed (sink writes, inference).

A step is retried until it succeeds or the worker stops; on stop the batch is abandoned, never acknowledged.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterator, TypeVar

from .errors import StreamError

T = TypeVar("T")
log = logging.getLogger(__name__)


class Abandoned(StreamError):
    """The worker is stopping while a batch step still fails: the batch must not be acknowledged."""


@dataclass(frozen=True)
class Backoff:
    initial_s: float = 0.2
    max_s: float = 10.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.max_s or self.factor < 1:
            raise ValueError(f"expected 0 < initial_s <= max_s and factor >= 1, got {self}")

    def delays(self) -> Iterator[float]:
        """``0.2, 0.4, 0.8, ... max_s, max_s, ...``"""
        delay = self.initial_s
        while True:
            yield delay
            delay = min(delay * self.factor, self.max_s)


async def retry(step: Callable[[], Awaitable[T]], backoff: Backoff, should_stop: Callable[[], bool], *,
                what: str, on_error: Callable[[BaseException], None] | None = None,
                sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, tick_s: float = 0.25) -> T:
    """Run ``step`` until it returns; raise ``Abandoned`` if ``should_stop()`` turns true while it fails."""
    delays = backoff.delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure: retry, never drop the batch
            if on_error is not None:
                on_error(exc)
            delay = next(delays)
            if attempt == 1:
                log.warning("%s failed; retrying with backoff (up to %.1fs) until it succeeds", what,
                            backoff.max_s, exc_info=exc)
            else:
                log.warning("%s failed again (attempt %d): %s: %s; next try in %.2fs", what, attempt,
                            type(exc).__name__, exc, delay)
        # Sleep in short ticks so that a stopping worker is not held up by a long backoff.
        remaining = delay
        while remaining > 0:
            if should_stop():
                raise Abandoned(f"{what} still failing after {attempt} attempts and the worker is stopping")
            await sleep(min(tick_s, remaining))
            remaining -= tick_s
        if should_stop():
            raise Abandoned(f"{what} still failing after {attempt} attempts and the worker is stopping")
