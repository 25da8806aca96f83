"""A shared setting reaches only the services that read it: the session checks' Redis is
neither in the Secret nor the egress of a service that never checks a signed-in caller."""

from __future__ import annotations

import re

import pytest

from contracts.topics import SERVICES
from skaart.manifests.cluster import FRONT_ENDS, TOKEN_VERIFYING, service_package
from skaart.manifests.settings_docs import service_secret_settings
from tests.deploy.support import REPO, kind, load_yaml

IMPORTS_AUTH = re.compile(r"^\s*(from servicekit\.auth import|import servicekit\.auth)", re.M)


def _service_imports_auth(service: str) -> bool:
    package = REPO / "services" / service / service_package(service)
    return any(IMPORTS_AUTH.search(path.read_text()) for path in package.rglob("*.py"))


def _reaches_redis(service: str) -> bool:
    (policy,) = kind(load_yaml(REPO / f"deploy/base/{service}/networkpolicy.yaml"), "NetworkPolicy")
    return any(
        peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") == "redis"
        for rule in policy["spec"]["egress"]
        for peer in rule.get("to", [])
    )


@pytest.mark.parametrize("service", [*SERVICES, *FRONT_ENDS])
def test_token_verifying_services_are_those_whose_code_checks_callers(service: str) -> None:
    assert (service in TOKEN_VERIFYING) == _service_imports_auth(service), (
        f"{service}: skaart.manifests.cluster.TOKEN_VERIFYING says "
        f"{service in TOKEN_VERIFYING}, its code's imports of servicekit.auth say otherwise"
    )


@pytest.mark.parametrize("service", ["directory", "registry-sync", "notifications"])
def test_a_service_without_signed_in_callers_gets_no_session_redis(service: str) -> None:
    keys = {doc.env for doc in service_secret_settings(service)}
    assert "AUTH_REDIS_URL" not in keys
    assert not _reaches_redis(service)


@pytest.mark.parametrize("service", ["identity", "fiches", "invitations"])
def test_a_service_checking_sessions_reaches_redis_and_has_its_url(service: str) -> None:
    keys = {doc.env for doc in service_secret_settings(service)}
    assert "AUTH_REDIS_URL" in keys
    assert _reaches_redis(service)
