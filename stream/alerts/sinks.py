"""Where alerts go after the Redis Stream: small sinks with ``send(alert)``.

The Redis Stream and pub/sub channel are written inside the state commit (see ``store``); every
other destination is a sink fed by its own ``Dispatcher`` consumer group, so a slow webhook never
holds back Kafka and each sink resumes where it stopped.
"""
from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Protocol

from stream.alerts.errors import AlertError


class DeliveryError(AlertError):
    """A sink could not deliver now; the alert stays pending and is tried again."""


class PermanentDeliveryError(DeliveryError):
    """The receiver refused the alert for good (e.g. HTTP 400); it goes to the dead-letter stream."""


class AlertSink(Protocol):
    name: str

    async def send(self, alert: dict[str, Any]) -> None:
        """Deliver one alert or raise ``DeliveryError``. Receivers dedupe by ``alert["id"]``."""
        ...

    async def close(self) -> None: ...


def encode(alert: dict[str, Any]) -> bytes:
    return json.dumps(alert, separators=(",", ":"), sort_keys=True).encode()


class MemoryAlertSink:
    """Collects alerts in a list (tests, demo). ``fail`` makes the next n sends raise."""

    def __init__(self, name: str = "memory") -> None:
        self.name, self.alerts, self.fail = name, [], 0

    async def send(self, alert: dict[str, Any]) -> None:
        if self.fail:
            self.fail -= 1
            raise DeliveryError("memory sink told to fail")
        self.alerts.append(alert)

    async def close(self) -> None:
        pass


class KafkaAlertSink:
    """Produces each alert keyed by fingerprint, via any ``send(key, value)`` coroutine.

    With faust: ``KafkaAlertSink.for_faust(app.topic(settings.alerts_topic))``.
    """

    name = "kafka"

    def __init__(self, produce: Callable[[bytes, bytes], Awaitable[Any]]) -> None:
        self._produce = produce

    @classmethod
    def for_faust(cls, topic: Any) -> KafkaAlertSink:
        async def produce(key: bytes, value: bytes) -> None:
            fut = await topic.send(key=key, value=value)
            await fut  # wait for the broker's ack, so the dispatcher only acks delivered alerts

        return cls(produce)

    async def send(self, alert: dict[str, Any]) -> None:
        try:
            await self._produce(alert["fingerprint"].encode(), encode(alert))
        except Exception as exc:  # any client error is worth another try later
            raise DeliveryError(f"kafka: could not produce alert {alert['id']}: {exc!r}") from exc

    async def close(self) -> None:
        pass
