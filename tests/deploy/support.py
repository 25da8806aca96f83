"""Helpers of the deploy tests: render kustomizations, read manifests, find pod specs."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
KUSTOMIZE_ROOTS = (
    "deploy/base",
    "deploy/base/kafka",
    "deploy/base/ingress",
    "deploy/overlays/dev",
    "deploy/overlays/prod",
)
OVERLAYS = ("deploy/overlays/dev", "deploy/overlays/prod")
KUBERNETES_VERSION = "1.32"
"""kubernetes-validate ships schemas of many versions; the one kubectl here speaks."""
CRD_SCHEMAS = Path(__file__).parent / "crd_schemas"


def kubectl() -> str:
    """The kubectl binary, or skip the test with the reason."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is not installed: cannot render the kustomizations")
    return found


def render(root: str) -> list[dict[str, Any]]:
    """`kubectl kustomize ROOT` as a list of resources (fails the test on an error)."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(REPO / root)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {root} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def load_yaml(path: Path) -> list[dict[str, Any]]:
    """The documents of one YAML file."""
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def kind(resources: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The resources of one kind."""
    return [resource for resource in resources if resource["kind"] == name]


def workloads(resources: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(`Kind/name`, pod spec) of every Deployment, Job and CronJob."""
    for resource in resources:
        label = f"{resource['kind']}/{resource['metadata']['name']}"
        if resource["kind"] in ("Deployment", "Job"):
            yield label, resource["spec"]["template"]["spec"]
        elif resource["kind"] == "CronJob":
            yield label, resource["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def crd_schema(api_version: str, kind_name: str) -> dict[str, Any] | None:
    """The vendored openAPIV3Schema of a CRD kind, or None when none is vendored."""
    for path in sorted(CRD_SCHEMAS.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if document["apiVersion"] == api_version and document["kind"] == kind_name:
            return strict_schema(document["schema"])
    return None


def strict_schema(schema: Any) -> Any:
    """An OpenAPI v3 structural schema as the API server applies it with strict field
    validation: unknown fields are errors (where the schema does not preserve them)."""
    if isinstance(schema, list):
        return [strict_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: strict_schema(value) for key, value in schema.items()}
    if (
        "properties" in result
        and "additionalProperties" not in result
        and not result.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    if result.get("nullable"):
        kind_name = result.get("type")
        if isinstance(kind_name, str):
            result["type"] = [kind_name, "null"]
    return result
