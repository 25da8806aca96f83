"""The generated deployment files agree with the registry, and the ACLs say exactly what
the registry says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contracts.topics import SERVICES, TOPICS, Visibility, dead_letter_topic
from skaart.deploy_commands import deploy_app
from skaart.deploy_manifests import (
    consumer_group_prefix,
    consumer_groups,
    expected_contents,
    generated_files,
    kafka_user_name,
    public_topics,
    stale_files,
)
from tests.deploy.support import REPO, load_yaml


def test_committed_files_are_current() -> None:
    stale = stale_files(REPO)
    assert not stale, "out of date (run `skaart deploy generate` and commit):\n" + "\n".join(
        stale.values()
    )


def test_check_names_the_stale_file(tmp_path: Path) -> None:
    files = generated_files()
    for path, content in expected_contents(REPO, files).items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    runner = CliRunner()
    assert (
        runner.invoke(deploy_app, ["generate", "--check", "--root", str(tmp_path)]).exit_code == 0
    )
    topics = tmp_path / "deploy/base/kafka/topics.yaml"
    topics.write_text(topics.read_text().replace("partitions: 6", "partitions: 3", 1))
    result = runner.invoke(deploy_app, ["generate", "--check", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "deploy/base/kafka/topics.yaml" in result.output
    assert "-  partitions: 3" in result.output
    runner.invoke(deploy_app, ["generate", "--root", str(tmp_path)])
    assert not stale_files(tmp_path)
    shutil.rmtree(tmp_path / "deploy")


def _users() -> dict[str, dict]:
    users = load_yaml(REPO / "deploy/base/kafka/users.yaml")
    return {user["metadata"]["name"]: user for user in users}


def _grants(user: dict, resource_type: str, operation: str) -> set[str]:
    return {
        acl["resource"]["name"]
        for acl in user["spec"]["authorization"]["acls"]
        if acl["resource"]["type"] == resource_type
        and operation in acl["operations"]
        and acl["type"] == "allow"
    }


def test_topics_match_the_registry() -> None:
    topics = {t["spec"]["topicName"]: t for t in load_yaml(REPO / "deploy/base/kafka/topics.yaml")}
    assert set(topics) == set(TOPICS)
    for name, spec in TOPICS.items():
        topic = topics[name]["spec"]
        assert topic["partitions"] == spec.partitions
        assert topic["config"]["retention.ms"] == spec.retention_ms
        assert topic["config"]["cleanup.policy"] == spec.cleanup_policy
        assert topic["config"]["min.insync.replicas"] <= topic["replicas"]


def test_each_service_reads_and_writes_exactly_what_the_registry_says() -> None:
    users = _users()
    assert set(users) == {kafka_user_name(service) for service in SERVICES}
    for service in SERVICES:
        user = users[kafka_user_name(service)]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        reads = {name for name, spec in TOPICS.items() if service in spec.consumers}
        writes = {name for name, spec in TOPICS.items() if spec.producer == service}
        if reads:
            writes.add(dead_letter_topic(service))
        assert _grants(user, "topic", "Read") == reads, service
        assert _grants(user, "topic", "Write") == writes, service
        assert _grants(user, "group", "Read") == (
            {consumer_group_prefix(service)} if reads else set()
        )
        for acl in user["spec"]["authorization"]["acls"]:
            assert set(acl["operations"]) <= {"Read", "Write", "Describe"}, acl
            assert acl["resource"]["patternType"] == (
                "prefix" if acl["resource"]["type"] == "group" else "literal"
            )


def test_restricted_topics_are_readable_only_by_their_named_consumers() -> None:
    users = _users()
    for name, spec in TOPICS.items():
        if spec.visibility is not Visibility.RESTRICTED:
            continue
        readers = {
            s for s in SERVICES if name in _grants(users[kafka_user_name(s)], "topic", "Read")
        }
        assert readers == set(spec.consumers), name
    [agency] = load_yaml(REPO / "deploy/agencies/kafkauser-example.yaml")
    assert _grants(agency, "topic", "Read") == {spec.name for spec in public_topics()}
    assert _grants(agency, "topic", "Write") == set()
    for name in _grants(agency, "topic", "Read"):
        assert TOPICS[name].visibility is Visibility.PUBLIC


def test_consumer_groups_are_allowed_by_the_acls() -> None:
    """Every group a service really subscribes with may read its topics: a subscription
    to a topic the registry does not name the service a consumer of fails here, not in
    production with an authorization error."""
    users = _users()
    for service, groups in consumer_groups().items():
        user = users[kafka_user_name(service)]
        for group in groups:
            assert group.group_id.startswith(consumer_group_prefix(service)), group
            missing = set(group.topics) - _grants(user, "topic", "Read")
            assert not missing, f"{group.group_id} reads {missing}, not allowed by the registry"


@pytest.mark.parametrize("service", SERVICES)
def test_scaled_services_have_lag_triggers_for_their_groups(service: str) -> None:
    path = REPO / f"deploy/base/{service}/scaling.yaml"
    if not path.exists():
        pytest.skip(f"{service} runs as a single replica")
    [scaled, *_] = load_yaml(path)
    triggers = {
        (t["metadata"]["consumerGroup"], t["metadata"]["topic"])
        for t in scaled["spec"]["triggers"]
        if t["type"] == "kafka"
    }
    expected = {(g.group_id, topic) for g in consumer_groups()[service] for topic in g.topics}
    assert triggers == expected
