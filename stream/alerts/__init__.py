"""Sentiment-shift alerts: per-ticker detectors, an Alertmanager-like lifecycle, delivery.

The folders show the flow::

    article -> monitor (detectors/{ewma, cusum, volume} + lifecycle + evidence) -> payload
            -> engine + store (Redis, once per message id; Redis Stream + pub/sub in the same commit)
            -> dispatch -> sinks/{kafka, webhook, memory}
    silences (Redis) mute notifications; agent wires it all into the faust worker; cli serves
    ``finsentry silence`` and ``finsentry alerts``.

Importing this package pulls in neither Redis nor HTTP clients.
"""
from stream.alerts.config import AlertConfig
from stream.alerts.detectors import CUSUM, Detector, EWMAChart, VolumeDetector
from stream.alerts.errors import AlertConfigError, AlertError
from stream.alerts.lifecycle import Lifecycle, fingerprint
from stream.alerts.monitor import TickerMonitor

__all__ = ["AlertConfig", "AlertConfigError", "AlertError", "CUSUM", "Detector", "EWMAChart", "Lifecycle",
           "TickerMonitor", "VolumeDetector", "fingerprint"]
