"""The production overlay: hardened pods, resources, probes, and secrets only by reference."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from servicekit.settings import (
    Environment,
    MissingDatabaseUrl,
    PlatformSettings,
    service_database_url,
)
from skaart.cli import _register_subcommands, app
from skaart.deploy_manifests import settings_docs
from tests.deploy.support import kind, workloads

SECRET_LOOKING = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIAL|_KEY$|HMAC|DATABASE_URL|REDIS_URL")


def test_pods_are_hardened(prod: list[dict[str, Any]]) -> None:
    found = list(workloads(prod))
    assert {label.split("/")[0] for label, _ in found} == {"Deployment", "Job", "CronJob"}
    for label, pod in found:
        assert pod.get("automountServiceAccountToken") is False, label
        assert pod["securityContext"]["runAsNonRoot"] is True, label
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", label
        tmp_volumes = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for container in pod["containers"]:
            where = f"{label} container {container['name']}"
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert "add" not in context["capabilities"], where
            assert context["seccompProfile"]["type"] == "RuntimeDefault", where
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts.get("/tmp") in tmp_volumes, f"{where}: no emptyDir at /tmp"
            resources = container["resources"]
            for key in ("cpu", "memory"):
                assert resources["requests"].get(key), f"{where}: no {key} request"
            assert resources["limits"].get("memory"), f"{where}: no memory limit"


def test_deployments_have_probes_on_the_health_endpoints(prod: list[dict[str, Any]]) -> None:
    for deployment in kind(prod, "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            where = f"Deployment/{deployment['metadata']['name']}"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", where
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", where
            assert container["args"][0] == "serve", where
    for job in kind(prod, "Job"):
        [container] = job["spec"]["template"]["spec"]["containers"]
        assert container["args"][0] == "migrate", job["metadata"]["name"]


def test_the_signing_key_is_rotated_on_a_schedule(prod: list[dict[str, Any]]) -> None:
    (cron,) = kind(prod, "CronJob")
    assert cron["metadata"]["name"] == "identity-rotate-key"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert len(cron["spec"]["schedule"].split()) == 5
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["args"] == ["identity", "rotate-key"]
    assert container["image"].startswith("registry.example.invalid/"), "the release image"
    assert {"secretRef": {"name": "identity-secrets"}} in container["envFrom"]
    # The command the CronJob runs exists in the image's CLI.
    _register_subcommands()
    result = CliRunner().invoke(app, [*container["args"], "--help"])
    assert result.exit_code == 0, result.output


def test_no_secret_in_plain_env(prod: list[dict[str, Any]]) -> None:
    """Secrets come by reference (secretKeyRef, envFrom secretRef), never as a value."""
    secret_settings = {doc.env for doc in settings_docs() if doc.secret}
    for label, pod in workloads(prod):
        for container in pod["containers"]:
            for env in container.get("env", []):
                name = env["name"]
                if "value" in env:
                    assert not SECRET_LOOKING.search(name), f"{label}: {name} has a value"
                    assert name not in secret_settings, f"{label}: {name} has a value"
                if name in secret_settings:
                    assert "secretKeyRef" in env["valueFrom"], f"{label}: {name}"
            assert any("secretRef" in s for s in container.get("envFrom", [])), label


def test_config_maps_hold_known_settings_only(prod: list[dict[str, Any]]) -> None:
    """A ConfigMap key is a setting some class reads (no typo), and never a secret one."""
    docs = {doc.env: doc for doc in settings_docs()}
    for config_map in kind(prod, "ConfigMap"):
        for key in config_map["data"]:
            assert key in docs, f"{config_map['metadata']['name']}: {key} is read by nothing"
            assert not docs[key].secret, f"{config_map['metadata']['name']}: {key} is secret"


def test_a_service_without_its_database_url_is_refused_outside_development(
    tmp_path: Path,
) -> None:
    """Outside development the SQLite default would live in the pod's temporary folder:
    each replica a map of its own, lost with the pod. An explicit URL is taken."""
    production = PlatformSettings(environment=Environment.PRODUCTION, data_dir=tmp_path)
    with pytest.raises(MissingDatabaseUrl, match="REGISTRY_SYNC_DATABASE_URL is not set"):
        service_database_url("registry-sync", None, production)
    given = "postgresql+asyncpg://directory@db/directory"
    assert service_database_url("directory", given, production) == given
    development = PlatformSettings(environment=Environment.DEVELOPMENT, data_dir=tmp_path)
    assert service_database_url("directory", None, development).startswith("sqlite+aiosqlite:")
