"""Client construction from Settings: security options (Kafka SASL/SSL, Redis ACL user/password/TLS) are
passed through here and nowhere else, so secrets stay out of logs and reprs."""
from __future__ import annotations

import ssl
from typing import Any

from .settings import Settings


def _ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    context = ssl.create_default_context(
        cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None)
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(str(settings.kafka_ssl_certfile),
                                str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None)
    return context


def faust_broker_options(settings: Settings) -> dict[str, Any]:
    import faust

    hosts = [h.strip() for h in settings.kafka_bootstrap.split(",") if h.strip()]
    options: dict[str, Any] = {"broker": [f"kafka://{h}" for h in hosts]}
    context = _ssl_context(settings)
    if settings.kafka_security_protocol.startswith("SASL"):
        options["broker_credentials"] = faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else None,
            mechanism=settings.kafka_sasl_mechanism, ssl_context=context)
    elif context is not None:
        options["broker_credentials"] = faust.SSLCredentials(context)
    return options


def kafka_python_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for kafka-python's KafkaProducer/KafkaConsumer."""
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap.split(","),
                               "security_protocol": settings.kafka_security_protocol}
    if settings.kafka_security_protocol.startswith("SASL"):
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password.get_secret_value()
                       if settings.kafka_sasl_password else None)
    context = _ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    return options


def redis_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"socket_timeout": settings.redis_timeout_s,
                               "socket_connect_timeout": settings.redis_timeout_s,
                               "health_check_interval": 30}
    if settings.redis_username:
        options["username"] = settings.redis_username
    if settings.redis_password:
        options["password"] = settings.redis_password.get_secret_value()
    if settings.redis_ssl_ca_file:
        options["ssl_ca_certs"] = str(settings.redis_ssl_ca_file)
    return options


def async_redis(settings: Settings, **extra: Any):
    from redis.asyncio import Redis

    return Redis.from_url(settings.redis_url, **redis_options(settings), **extra)


def sync_redis(settings: Settings, **extra: Any):
    from redis import Redis

    return Redis.from_url(settings.redis_url, **redis_options(settings), **extra)
