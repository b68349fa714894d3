"""Topic creation with kafka-python (the worker declares its own topics; producers and tests use this)."""
from __future__ import annotations

from typing import Any, Iterable


def create_topics(names: Iterable[str], partitions: int, replication: int = 1, **client_options: Any) -> None:
    """Create the topics that do not exist yet (``client_options``: see ``clients.kafka_python_options``)."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(**client_options)
    try:
        existing = set(admin.list_topics())
        new = [NewTopic(n, partitions, replication) for n in dict.fromkeys(names) if n not in existing]
        if new:
            try:
                admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass  # created concurrently
    finally:
        admin.close()
