"""Network policies: what each service may talk to, following its settings."""

from __future__ import annotations

from typing import Any

from skaart.manifests.cluster import (
    HTTP_PORT,
    KAFKA_CLUSTER,
    KAFKA_PORT,
    LABEL_DATABASE,
    LABEL_GATEWAY_NAMESPACE,
    LABEL_MONITORING_NAMESPACE,
    PORTAL_CALLS,
    resource_labels,
)
from skaart.manifests.settings_docs import service_settings


def _port(port: int, protocol: str = "TCP") -> dict[str, Any]:
    return {"protocol": protocol, "port": port}


def network_policy(service: str) -> dict[str, Any]:
    """Ingress from the gateway and Prometheus; egress to DNS, Kafka, the service's own
    database and, when its settings have them, Redis and the SMTP relay."""
    env = service_settings(service)
    egress: list[dict[str, Any]] = [
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    },
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [_port(53, "UDP"), _port(53, "TCP")],
        },
        {
            "to": [
                {
                    "podSelector": {
                        "matchLabels": {
                            "strimzi.io/cluster": KAFKA_CLUSTER,
                            "strimzi.io/kind": "Kafka",
                        }
                    }
                }
            ],
            "ports": [_port(KAFKA_PORT)],
        },
        {
            "to": [{"podSelector": {"matchLabels": {LABEL_DATABASE: service}}}],
            "ports": [_port(5432)],
        },
    ]
    if any(name.endswith("_REDIS_URL") for name in env):
        egress.append(
            {
                "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "redis"}}}],
                "ports": [_port(6379)],
            }
        )
    if any(name.endswith("_SMTP_HOST") for name in env):
        egress.append(
            {
                "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "smtp-relay"}}}],
                "ports": [_port(25), _port(465), _port(587)],
            }
        )
    callers = ["portal"] if service in PORTAL_CALLS else []
    return _policy(service, egress, callers)


def _policy(service: str, egress: list[dict[str, Any]], callers: list[str]) -> dict[str, Any]:
    """Ingress from the gateway, Prometheus and the pods of `callers`, on the HTTP port."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": service, "labels": resource_labels(service, "migrate")},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": service}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {LABEL_GATEWAY_NAMESPACE: "true"}}},
                        {
                            "namespaceSelector": {
                                "matchLabels": {LABEL_MONITORING_NAMESPACE: "true"}
                            },
                            "podSelector": {
                                "matchLabels": {"app.kubernetes.io/name": "prometheus"}
                            },
                        },
                        *(
                            {"podSelector": {"matchLabels": {"app.kubernetes.io/name": caller}}}
                            for caller in callers
                        ),
                    ],
                    "ports": [_port(HTTP_PORT)],
                }
            ],
            "egress": egress,
        },
    }


def portal_network_policy() -> dict[str, Any]:
    """The portal: no Kafka, no database; DNS, Redis (sessions) and the services it calls."""
    egress: list[dict[str, Any]] = [
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    },
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [_port(53, "UDP"), _port(53, "TCP")],
        },
        {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "redis"}}}],
            "ports": [_port(6379)],
        },
        {
            "to": [
                {"podSelector": {"matchLabels": {"app.kubernetes.io/name": called}}}
                for called in PORTAL_CALLS
            ],
            "ports": [_port(HTTP_PORT)],
        },
    ]
    return _policy("portal", egress, [])
