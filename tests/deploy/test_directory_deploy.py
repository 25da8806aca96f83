"""directory in microservices mode: the gateway sends it the public map's paths, and its
Kafka user may only read the three public topics (and write its own dead letters)."""

from __future__ import annotations

from tests.deploy.support import REPO, kind, load_yaml


def test_the_gateway_and_the_ingress_send_the_public_map_to_directory() -> None:
    (route,) = kind(load_yaml(REPO / "deploy/base/gateway/httproute.yaml"), "HTTPRoute")
    to_directory = {
        (match["path"]["type"], match["path"]["value"])
        for rule in route["spec"]["rules"]
        if [ref["name"] for ref in rule["backendRefs"]] == ["directory"]
        for match in rule["matches"]
    }
    assert to_directory == {
        ("PathPrefix", "/api/directory"),
        ("Exact", "/api/fiches/search"),
        ("PathPrefix", "/fhir"),
        ("PathPrefix", "/hsds"),
    }
    (ingress,) = kind(load_yaml(REPO / "deploy/base/ingress/ingress.yaml"), "Ingress")
    paths = {
        (p["pathType"], p["path"])
        for p in ingress["spec"]["rules"][0]["http"]["paths"]
        if p["backend"]["service"]["name"] == "directory"
    }
    assert paths == {
        ("Prefix", "/api/directory"),
        ("Exact", "/api/fiches/search"),
        ("Prefix", "/fhir"),
        ("Prefix", "/hsds"),
    }


def test_directory_reads_only_the_public_topics() -> None:
    users = {
        u["metadata"]["name"]: u
        for u in kind(load_yaml(REPO / "deploy/base/kafka/users.yaml"), "KafkaUser")
    }
    acls = users["skaart-directory"]["spec"]["authorization"]["acls"]
    topics = {
        acl["resource"]["name"]: sorted(acl["operations"])
        for acl in acls
        if acl["resource"]["type"] == "topic"
    }
    assert topics == {
        "fiches.providers.v1": ["Describe", "Read"],
        "fiches.practices.v1": ["Describe", "Read"],
        "fiches.offers.v1": ["Describe", "Read"],
        "deadletter.directory.v1": ["Describe", "Write"],
    }


def test_the_portal_reaches_every_service_it_calls_in_the_cluster() -> None:
    """Each service the portal calls (its public search: the directory) has the portal's
    URL setting in its ConfigMap, and both network policies let the call through:
    monolithic mode calls in-process and would not show a missing one."""
    from portal.config import CALLED_SERVICES
    from skaart.manifests.cluster import PORTAL_CALLS

    assert set(PORTAL_CALLS) == set(CALLED_SERVICES)
    assert "directory" in CALLED_SERVICES
    (config,) = load_yaml(REPO / "deploy/base/portal/kustomization.yaml")
    literals = config["configMapGenerator"][0]["literals"]
    for service in CALLED_SERVICES:
        assert f"PORTAL_{service.upper()}_URL=http://{service}:8000" in literals, service
    (portal_policy,) = kind(
        load_yaml(REPO / "deploy/base/portal/networkpolicy.yaml"), "NetworkPolicy"
    )
    egress_to = {
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for rule in portal_policy["spec"]["egress"]
        for peer in rule.get("to", [])
        if "podSelector" in peer and "namespaceSelector" not in peer
    }
    for service in CALLED_SERVICES:
        assert service in egress_to, service
        (policy,) = kind(
            load_yaml(REPO / f"deploy/base/{service}/networkpolicy.yaml"), "NetworkPolicy"
        )
        ingress_from = {
            peer["podSelector"]["matchLabels"].get("app.kubernetes.io/name")
            for rule in policy["spec"]["ingress"]
            for peer in rule.get("from", [])
            if "podSelector" in peer
        }
        assert "portal" in ingress_from, service
