"""Webhook sink: HTTP POST of each alert, signed with HMAC-SHA256, retried with capped backoff."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import time
from typing import Any

import aiohttp

from stream.alerts.config import WebhookConfig
from stream.alerts.sinks import DeliveryError, PermanentDeliveryError, encode

log = logging.getLogger(__name__)
RETRY_STATUSES = {408, 425, 429}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Signature header value over ``"{timestamp}.{body}"`` (a timestamp in the signed text stops replays).

    Receivers recompute it with the shared secret and compare in constant time, and reject old timestamps.

    >>> sign("s3cret", "1700000000", b'{"a":1}')
    'sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940'
    """
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookSink:
    """POSTs JSON; 2xx is success, 5xx/408/425/429 and network errors are retried up to ``max_attempts``
    with exponential backoff (``Retry-After`` honoured, capped at ``backoff_max_s``), other 4xx are final."""

    def __init__(self, config: WebhookConfig, *, sleep=asyncio.sleep) -> None:
        self.config, self._sleep = config, sleep
        self.url = config.url.get_secret_value()
        self.name = f"webhook:{hashlib.sha256(self.url.encode()).hexdigest()[:8]}"  # the URL may hold a credential
        self._session: aiohttp.ClientSession | None = None
        self.attempts = 0

    def headers(self, alert: dict[str, Any], body: bytes) -> dict[str, str]:
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": "finsentry-alerts/1",
                   "X-Finsentry-Delivery": alert["id"], "X-Finsentry-Timestamp": ts}
        if self.config.secret is not None:
            headers["X-Finsentry-Signature"] = sign(self.config.secret.get_secret_value(), ts, body)
        return headers

    def backoff(self, attempt: int, retry_after: str | None = None) -> float:
        c = self.config
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), c.backoff_max_s)
        return min(c.backoff_s * 2 ** (attempt - 1), c.backoff_max_s) * random.uniform(0.5, 1.0)

    async def send(self, alert: dict[str, Any]) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.timeout_s))
        body = encode(alert)
        error = ""
        for attempt in range(1, self.config.max_attempts + 1):
            self.attempts += 1
            retry_after = None
            try:
                async with self._session.post(self.url, data=body, headers=self.headers(alert, body)) as r:
                    if 200 <= r.status < 300:
                        return
                    error = f"HTTP {r.status}"
                    if r.status < 500 and r.status not in RETRY_STATUSES:
                        raise PermanentDeliveryError(f"{self.name}: alert {alert['id']} refused with {error}")
                    retry_after = r.headers.get("Retry-After")
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                error = repr(exc)
            if attempt < self.config.max_attempts:
                delay = self.backoff(attempt, retry_after)
                log.warning("%s: attempt %d for alert %s failed (%s); retrying in %.2fs",
                            self.name, attempt, alert["id"], error, delay)
                await self._sleep(delay)
        raise DeliveryError(f"{self.name}: alert {alert['id']} not delivered after "
                            f"{self.config.max_attempts} attempts; last error {error}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
