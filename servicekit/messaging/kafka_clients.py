"""Kafka client settings stated explicitly, and topic creation from the contracts registry."""

from __future__ import annotations

import logging
import ssl
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from contracts.topics import TOPICS, TopicSpec
from servicekit.settings import KafkaSettings

log = logging.getLogger(__name__)


class BrokerNotConfigured(RuntimeError):
    """No broker address is known (neither KAFKA_BOOTSTRAP_SERVERS nor an embedded one)."""


def bootstrap_servers(settings: KafkaSettings) -> str:
    """The broker list, or a clear error saying how to provide one."""
    if not settings.bootstrap_servers:
        raise BrokerNotConfigured(
            "no Kafka broker configured: set KAFKA_BOOTSTRAP_SERVERS, or run `skaart up` "
            "which starts the embedded broker for monolithic mode"
        )
    return settings.bootstrap_servers


def security_options(settings: KafkaSettings) -> dict[str, Any]:
    """Client options for the configured security protocol (shared by every client)."""
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        # Verifying context: the broker's certificate must chain to the CA bundle (or the
        # system CAs) and name the host connected to. Stated explicitly so that no later
        # change of defaults can turn verification off.
        context = ssl.create_default_context(
            cafile=str(settings.ssl_cafile) if settings.ssl_cafile else None
        )
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        options["ssl_context"] = context
    if settings.security_protocol == "SASL_SSL":
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = (
            settings.sasl_password.get_secret_value() if settings.sasl_password else None
        )
    return options


def producer_options(settings: KafkaSettings, client_id: str) -> dict[str, Any]:
    """Producer options: every write acknowledged by all in-sync replicas.

    aiokafka defaults to acks=1 unless idempotence is on, so acks is always explicit.
    Idempotence is on for Apache Kafka and off for the embedded broker (it refuses
    InitProducerId).
    """
    return {
        "bootstrap_servers": bootstrap_servers(settings),
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": settings.enable_idempotence,
        "linger_ms": 5,
        "request_timeout_ms": 30_000,
        **security_options(settings),
    }


def create_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    """A producer built from `producer_options` (not started)."""
    return AIOKafkaProducer(**producer_options(settings, client_id))


async def ensure_topics(settings: KafkaSettings, specs: list[TopicSpec] | None = None) -> list[str]:
    """Create the registry's topics that do not exist yet; returns the names created.

    Topics are never auto-created by producing: this is the only place they come from.
    """
    wanted = specs if specs is not None else list(TOPICS.values())
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers(settings),
        client_id="skaart-topics",
        **security_options(settings),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in wanted if spec.name not in existing]
        if not missing:
            return []
        new_topics = [
            NewTopic(
                name=spec.name,
                num_partitions=spec.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=_topic_configs(spec, settings),
            )
            for spec in missing
        ]
        response = await admin.create_topics(new_topics)
        created = []
        for name, code, message in _topic_errors(response):
            if code == 0:
                created.append(name)
            elif code != TopicAlreadyExistsError.errno:
                raise RuntimeError(f"could not create topic {name}: error {code} {message}")
        log.info("topics created", extra={"topics": created})
        return created
    finally:
        await admin.close()


def _topic_configs(spec: TopicSpec, settings: KafkaSettings) -> dict[str, str]:
    configs = {"cleanup.policy": spec.cleanup_policy, "retention.ms": str(spec.retention_ms)}
    if settings.replication_factor > 1:
        configs["min.insync.replicas"] = str(
            min(spec.min_insync_replicas, settings.replication_factor)
        )
    return configs


def _topic_errors(response: Any) -> list[tuple[str, int, str | None]]:
    errors = []
    for entry in response.topic_errors:
        name, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 else None
        errors.append((name, code, message))
    return errors
