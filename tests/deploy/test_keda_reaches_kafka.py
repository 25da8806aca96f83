"""KEDA's lag triggers reach the Kafka cluster from the operator's namespace.

KEDA's operator connects to Kafka itself, from its own namespace (usually `keda`), where
the short name of Strimzi's bootstrap Service does not resolve. The triggers therefore
read the address from the scaled service's settings, which each overlay writes fully
qualified with its own namespace.
"""

from __future__ import annotations

from typing import Any

import pytest

from skaart.manifests.cluster import KAFKA_BOOTSTRAP_SERVICE, KAFKA_PORT
from tests.deploy.support import OVERLAYS, kind


def _container_settings(resources: list[dict[str, Any]], deployment_name: str) -> dict[str, str]:
    """The environment one Deployment's container gets from its ConfigMaps (envFrom)."""
    (deployment,) = [
        d for d in kind(resources, "Deployment") if d["metadata"]["name"] == deployment_name
    ]
    [container] = [
        c
        for c in deployment["spec"]["template"]["spec"]["containers"]
        if c["name"] == deployment_name
    ]
    config_maps = {c["metadata"]["name"]: c.get("data", {}) for c in kind(resources, "ConfigMap")}
    settings: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            settings |= config_maps[source["configMapRef"]["name"]]
    return settings


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_lag_trigger_reads_a_fully_qualified_bootstrap_address(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    resources = rendered[overlay]
    scaled = kind(resources, "ScaledObject")
    assert scaled, f"{overlay}: no ScaledObject rendered"
    checked = 0
    for scaled_object in scaled:
        namespace = scaled_object["metadata"]["namespace"]
        target = scaled_object["spec"]["scaleTargetRef"]["name"]
        settings = _container_settings(resources, target)
        for trigger in scaled_object["spec"]["triggers"]:
            if trigger["type"] != "kafka":
                continue
            metadata = trigger["metadata"]
            where = f"{overlay}: ScaledObject/{target} trigger {trigger['name']}"
            assert "bootstrapServers" not in metadata, f"{where}: a fixed address"
            variable = metadata["bootstrapServersFromEnv"]
            assert settings.get(variable) == (
                f"{KAFKA_BOOTSTRAP_SERVICE}.{namespace}.svc:{KAFKA_PORT}"
            ), f"{where}: {variable} is {settings.get(variable)!r} in the container's ConfigMaps"
            checked += 1
    assert checked, f"{overlay}: no kafka trigger checked"
