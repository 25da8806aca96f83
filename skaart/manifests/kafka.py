"""Kafka from the registry: Strimzi topics and users with their ACLs, the consumer groups
as the services really subscribe, KEDA scaling on their lag, and the public-topic table
of docs/agencies.md."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.topics import SERVICES, TOPICS, TopicSpec, Visibility, dead_letter_topic
from skaart.manifests.cluster import (
    CPU_UTILIZATION,
    KAFKA_CA_SECRET,
    KAFKA_CLUSTER,
    LABEL_STAGE,
    LAG_THRESHOLD,
    MAX_REPLICAS,
    TOPIC_REPLICAS,
    kafka_user_name,
    markdown_cell,
    resource_labels,
)


def _k8s_name(topic: str) -> str:
    name = re.sub(r"[^a-z0-9.-]+", "-", topic.lower()).strip(".-")
    return name[:253]


def kafka_topic(spec: TopicSpec, replicas: int = TOPIC_REPLICAS) -> dict[str, Any]:
    """A Strimzi KafkaTopic for one registry entry."""
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {
            "name": _k8s_name(spec.name),
            "labels": {
                "strimzi.io/cluster": KAFKA_CLUSTER,
                "socialekaart.be/visibility": str(spec.visibility),
                "socialekaart.be/producer": spec.producer,
                LABEL_STAGE: "kafka",
            },
        },
        "spec": {
            "topicName": spec.name,
            "partitions": spec.partitions,
            "replicas": replicas,
            "config": {
                "cleanup.policy": spec.cleanup_policy,
                "retention.ms": spec.retention_ms,
                "min.insync.replicas": min(spec.min_insync_replicas, replicas),
            },
        },
    }


def consumed_topics(service: str) -> list[str]:
    """Topics the registry names `service` a consumer of, in registry order."""
    return [spec.name for spec in TOPICS.values() if service in spec.consumers]


def produced_topics(service: str) -> list[str]:
    """Topics `service` may write: what the registry says it produces, plus its
    dead-letter topic when it consumes anything (failing messages are parked there)."""
    names = [spec.name for spec in TOPICS.values() if spec.producer == service]
    if consumed_topics(service):
        dead_letters = dead_letter_topic(service)
        if dead_letters not in TOPICS:
            raise LookupError(f"{service} consumes but its {dead_letters} is not in the registry")
        if dead_letters not in names:
            names.append(dead_letters)
    return names


def _acl(resource_type: str, name: str, operations: list[str], pattern: str = "literal") -> dict:
    return {
        "resource": {"type": resource_type, "name": name, "patternType": pattern},
        "operations": operations,
        "host": "*",
        "type": "allow",
    }


def consumer_group_prefix(service: str) -> str:
    """Every consumer group of a service starts with this (see ServiceRuntime.group_id)."""
    return f"{service}."


def service_acls(service: str) -> list[dict[str, Any]]:
    """Exactly what the registry allows `service`: read what it consumes (and use its own
    consumer groups), write what it produces."""
    acls = [_acl("topic", topic, ["Read", "Describe"]) for topic in consumed_topics(service)]
    if acls:
        acls.append(_acl("group", consumer_group_prefix(service), ["Read", "Describe"], "prefix"))
    acls += [_acl("topic", topic, ["Write", "Describe"]) for topic in produced_topics(service)]
    return acls


def kafka_user(name: str, acls: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, Any]:
    """A Strimzi KafkaUser with SCRAM-SHA-512 and simple authorization."""
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaUser",
        "metadata": {"name": name, "labels": {"strimzi.io/cluster": KAFKA_CLUSTER, **labels}},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": acls},
        },
    }


def public_topics() -> list[TopicSpec]:
    """Topics agencies outside the platform may subscribe to."""
    return [
        spec
        for spec in TOPICS.values()
        if spec.visibility is Visibility.PUBLIC and spec.external_readers
    ]


def agency_acls(agency: str) -> list[dict[str, Any]]:
    """An agency reads the public topics, with consumer groups under its own prefix."""
    acls = [_acl("topic", spec.name, ["Read", "Describe"]) for spec in public_topics()]
    acls.append(_acl("group", f"{agency}.", ["Read", "Describe"], "prefix"))
    return acls


# --------------------------------------------------------------------------------------
# Consumer groups (for KEDA): as the services really subscribe
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsumerGroup:
    """One subscription of a service: its group id and topics."""

    service: str
    group_id: str
    topics: tuple[str, ...]


def consumer_groups() -> dict[str, list[ConsumerGroup]]:
    """Every service's consumer groups, read from its component as `skaart serve` builds it.

    The component is built with development settings in a throw-away data folder and never
    started: no database or broker is contacted.
    """
    from servicekit.settings import Environment, KafkaSettings, PlatformSettings
    from skaart.components import BUILDERS

    groups: dict[str, list[ConsumerGroup]] = {}
    with tempfile.TemporaryDirectory(prefix="skaart-deploy-") as data_dir:
        platform = PlatformSettings(environment=Environment.DEVELOPMENT, data_dir=Path(data_dir))
        kafka = KafkaSettings(environment=Environment.DEVELOPMENT, bootstrap_servers=None)
        for service in SERVICES:
            try:
                component = BUILDERS[service](platform, kafka)
            except Exception as error:  # the message names the service that failed
                raise RuntimeError(
                    f"could not build {service} to read its consumer groups: {error}"
                ) from error
            groups[service] = [
                ConsumerGroup(service, component.runtime.group_id(sub), tuple(sub.topics))
                for sub in component.runtime.subscriptions
            ]
    return groups


def trigger_authentication(service: str) -> dict[str, Any]:
    """How KEDA logs in to Kafka as the service (its Strimzi user and the cluster CA)."""
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "TriggerAuthentication",
        "metadata": {"name": f"{service}-kafka", "labels": resource_labels(service, "app")},
        "spec": {
            "secretTargetRef": [
                {"parameter": "password", "name": kafka_user_name(service), "key": "password"},
                {"parameter": "ca", "name": KAFKA_CA_SECRET, "key": "ca.crt"},
            ],
            "env": [
                {"parameter": "username", "name": "KAFKA_SASL_USERNAME", "containerName": service}
            ],
        },
    }


def scaled_object(service: str, groups: list[ConsumerGroup]) -> dict[str, Any]:
    """KEDA ScaledObject: one `kafka` lag trigger per consumer group and topic, plus CPU."""
    triggers: list[dict[str, Any]] = []
    for group in groups:
        for topic in group.topics:
            triggers.append(
                {
                    "type": "kafka",
                    "name": _k8s_name(f"lag-{group.group_id}-{topic}").replace(".", "-"),
                    "metadata": {
                        # Read from the service's own settings (its ConfigMap), where the
                        # overlays write the fully qualified name: KEDA's operator runs in
                        # its own namespace, where the short one does not resolve.
                        "bootstrapServersFromEnv": "KAFKA_BOOTSTRAP_SERVERS",
                        "consumerGroup": group.group_id,
                        "topic": topic,
                        "lagThreshold": str(LAG_THRESHOLD),
                        "offsetResetPolicy": "earliest",
                        "sasl": "scram_sha512",
                        "tls": "enable",
                    },
                    "authenticationRef": {"name": f"{service}-kafka"},
                }
            )
    triggers.append(
        {"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(CPU_UTILIZATION)}}
    )
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": service, "labels": resource_labels(service, "app")},
        "spec": {
            "scaleTargetRef": {"name": service},
            "minReplicaCount": 1,
            "maxReplicaCount": MAX_REPLICAS,
            "pollingInterval": 15,
            "cooldownPeriod": 300,
            "triggers": triggers,
        },
    }


def _retention(ms: int) -> str:
    if ms < 0:
        return "forever"
    days = ms / 86_400_000
    if days % 7 == 0:
        weeks = int(days // 7)
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    return f"{days:g} days"


def public_topics_markdown() -> str:
    """The table of public topics in docs/agencies.md."""
    rows = [
        "| Topic | Key | Events | Schemas | Partitions | Retention | What it carries |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec in public_topics():
        events = ", ".join(f"`{event.__name__}`" for event in spec.events) or "none declared yet"
        retention = f"{_retention(spec.retention_ms)} ({spec.cleanup_policy})"
        rows.append(
            f"| `{spec.name}` | {spec.key} | {events} | `contracts/schemas/{spec.name}/` "
            f"| {spec.partitions} | {retention} | {markdown_cell(spec.description)} |"
        )
    return "\n".join(rows) + "\n"
