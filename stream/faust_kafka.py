"""faust's aiokafka transport with a configurable fetch.max.wait.ms.

faust fixes it at 1500 ms. A broker may hold a fetch that long when a partition has little data, which then
dominates end-to-end latency at low rates; Kafka's own default is 500 ms and we default to 50 ms.
"""
from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as driver


def transport_class(fetch_max_wait_ms: int) -> type:
    class ConsumerThread(driver.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any):
            consumer = super()._create_worker_consumer(transport)
            # aiokafka reads this when the consumer starts and builds its fetcher; it has no public setter.
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            return consumer

    class Consumer(driver.Consumer):
        def _new_consumer_thread(self) -> ConsumerThread:
            return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    class Transport(driver.Transport):
        pass

    Transport.Consumer = Consumer
    return Transport


def install(app: Any, fetch_max_wait_ms: int) -> None:
    """Give ``app`` (not started yet) a consumer transport with this fetch wait."""
    app.transport = transport_class(fetch_max_wait_ms)(app.conf.broker_consumer, app)
