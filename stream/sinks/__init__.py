"""Sinks: small classes with ``async write(batch)``; a batch is written completely or the call raises."""
from .base import Batch, Sink
from .memory import MemorySink

__all__ = ["Batch", "MemorySink", "Sink"]
