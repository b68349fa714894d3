"""Stream runtime: Kafka news in, student scores out to Redis and Kafka, nothing lost.

The folders show the data flow::

    validation -> tickers -> scoring -> pipeline -> sinks/{redis, kafka, memory}
                                         ^ app (faust agent, thin) + metrics + settings

Everything that decides something is a plain function or a small class tested without services;
``stream.app`` only wires them to faust.
"""
from .errors import ConfigError, SinkError, StreamError

__all__ = ["ConfigError", "SinkError", "StreamError"]
