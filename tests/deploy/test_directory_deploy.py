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
