"""Every kustomization renders, and every resource validates offline.

Kubernetes kinds are validated against the OpenAPI schemas kubernetes-validate ships
(strict: unknown fields fail). Strimzi, KEDA and Gateway API kinds are validated against
their CRDs' own schemas, vendored in `crd_schemas/` (see its README), with unknown fields
refused as the API server's strict field validation would. References between resources
(backends, scale targets, ConfigMaps, Secrets, ServiceAccounts) are checked structurally.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from skaart.deploy_manifests import (
    FRONT_ENDS,
    LABEL_STAGE,
    SERVICES,
    kafka_user_name,
    service_secret_name,
)
from tests.deploy.support import (
    KUBERNETES_VERSION,
    KUSTOMIZE_ROOTS,
    OVERLAYS,
    REPO,
    crd_schema,
    kind,
    load_yaml,
    workloads,
)

CRD_GROUPS = ("kafka.strimzi.io/", "keda.sh/", "gateway.networking.k8s.io/")
STAGES = ("kafka", "migrate", "app")


def _name(resource: dict[str, Any]) -> str:
    return f"{resource['kind']}/{resource['metadata']['name']}"


def validate(resource: dict[str, Any]) -> None:
    """Validate one resource against its schema, or fail naming what is wrong."""
    api_version = resource["apiVersion"]
    if api_version.startswith(CRD_GROUPS):
        schema = crd_schema(api_version, resource["kind"])
        assert schema is not None, f"no vendored CRD schema for {api_version} {resource['kind']}"
        errors = sorted(
            jsonschema.Draft7Validator(schema).iter_errors(resource), key=lambda e: list(e.path)
        )
        assert not errors, f"{_name(resource)}: " + "; ".join(
            f"{'.'.join(map(str, error.path))}: {error.message}" for error in errors
        )
        return
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(item) for item in error.path)
        pytest.fail(f"{_name(resource)} is invalid at {path}: {error.message}")


@pytest.mark.parametrize("root", KUSTOMIZE_ROOTS)
def test_every_resource_validates(rendered: dict[str, list[dict[str, Any]]], root: str) -> None:
    resources = rendered[root]
    assert resources, f"{root} renders nothing"
    for resource in resources:
        validate(resource)


def test_agency_kafka_user_example_validates() -> None:
    [user] = load_yaml(REPO / "deploy/agencies/kafkauser-example.yaml")
    validate(user)


def test_a_wrong_field_is_caught() -> None:
    """The validation can fail: a typo in a Deployment and in a KafkaTopic."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "x"}]}}},
        "replicaz": 1,
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    topic = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": "x"},
        "spec": {"partitions": 1, "replica": 3},
    }
    with pytest.raises(AssertionError, match="replica"):
        validate(topic)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_its_resources(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    resources = rendered[overlay]
    names = {_name(resource) for resource in resources}
    for service in SERVICES:
        for expected in (
            f"Deployment/{service}",
            f"Service/{service}",
            f"ServiceAccount/{service}",
            f"PodDisruptionBudget/{service}",
            f"NetworkPolicy/{service}",
            f"Job/{service}-migrate",
            f"KafkaUser/{kafka_user_name(service)}",
        ):
            assert expected in names, f"{overlay} lacks {expected}"
    for front_end in FRONT_ENDS:
        for kind_name in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"):
            assert f"{kind_name}/{front_end}" in names, f"{overlay} lacks {kind_name}/{front_end}"
        assert f"NetworkPolicy/{front_end}" in names
    for account in kind(resources, "ServiceAccount"):
        assert account.get("automountServiceAccountToken") is False, _name(account)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_references_point_at_existing_resources(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    resources = rendered[overlay]
    services = {s["metadata"]["name"]: s for s in kind(resources, "Service")}
    deployments = {d["metadata"]["name"]: d for d in kind(resources, "Deployment")}
    config_maps = {c["metadata"]["name"] for c in kind(resources, "ConfigMap")}
    accounts = {a["metadata"]["name"] for a in kind(resources, "ServiceAccount")}
    users = {u["metadata"]["name"] for u in kind(resources, "KafkaUser")}
    trigger_auths = {t["metadata"]["name"]: t for t in kind(resources, "TriggerAuthentication")}
    # Secrets made outside these manifests: the platform team's per service, Strimzi's per
    # KafkaUser, and Strimzi's cluster CA.
    secrets = (
        {service_secret_name(s) for s in (*SERVICES, *FRONT_ENDS)}
        | users
        | {"skaart-cluster-ca-cert"}
    )

    def service_port(name: str, port: int | str) -> None:
        assert name in services, f"backend {name} is not a Service"
        ports = services[name]["spec"]["ports"]
        assert any(port in (p["port"], p.get("name")) for p in ports), f"{name} has no {port}"

    for route in kind(resources, "HTTPRoute"):
        for rule in route["spec"]["rules"]:
            for ref in rule["backendRefs"]:
                service_port(ref["name"], ref["port"])
    for label, pod in workloads(resources):
        assert pod["serviceAccountName"] in accounts, f"{label}: no such ServiceAccount"
        for container in pod["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps, label
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets, label
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] in secrets, f"{label}: secret {ref['name']}"
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets, label
    for scaled in kind(resources, "ScaledObject"):
        target = scaled["spec"]["scaleTargetRef"]["name"]
        assert target in deployments, f"ScaledObject {target}: no such Deployment"
        assert "replicas" not in deployments[target]["spec"], (
            f"Deployment {target} sets replicas although KEDA scales it"
        )
        containers = {
            c["name"] for c in deployments[target]["spec"]["template"]["spec"]["containers"]
        }
        for trigger in scaled["spec"]["triggers"]:
            if trigger["type"] != "kafka":
                continue
            auth = trigger_auths[trigger["authenticationRef"]["name"]]
            for env in auth["spec"].get("env", []):
                assert env["containerName"] in containers
            for ref in auth["spec"].get("secretTargetRef", []):
                assert ref["name"] in secrets


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_resource_has_a_rollout_stage(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    """`kubectl apply -l socialekaart.be/stage=…` applies kafka, migrate, app in order, so
    everything a Job needs must come in a stage no later than the Job's."""
    order = {stage: index for index, stage in enumerate(STAGES)}
    resources = rendered[overlay]
    for resource in resources:
        stage = resource["metadata"].get("labels", {}).get(LABEL_STAGE)
        assert stage in order, f"{_name(resource)} has no {LABEL_STAGE} label"
        expected = {
            "KafkaTopic": "kafka",
            "KafkaUser": "kafka",
            "Job": "migrate",
            "ConfigMap": "migrate",
            "ServiceAccount": "migrate",
            "NetworkPolicy": "migrate",
        }.get(resource["kind"], "app")
        assert stage == expected, f"{_name(resource)} is in stage {stage}, not {expected}"
