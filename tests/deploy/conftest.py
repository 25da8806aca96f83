"""Fixtures of the deploy tests: rendered overlays (kubectl kustomize), once per session."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.support import KUSTOMIZE_ROOTS, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Every kustomization root of deploy/, rendered."""
    return {root: render(root) for root in KUSTOMIZE_ROOTS}


@pytest.fixture(scope="session")
def prod(rendered: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The production overlay, rendered."""
    return rendered["deploy/overlays/prod"]
