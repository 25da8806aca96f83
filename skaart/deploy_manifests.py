"""Deployment files generated from the code: Kafka topics and users, autoscaling, network
policies, and the settings and public-topic tables of the docs.

Everything here is read at run time from the registries the services themselves use:
`contracts.topics.TOPICS` (topics, producers, consumers, visibility), the consumer groups
the services subscribe with (`ServiceRuntime.group_id`), and the pydantic settings
classes (`servicekit.settings` and each service's `<package>.config`). Topics, events and
settings are added all the time, so the committed files are regenerated, never edited:
`skaart deploy generate` writes them, `skaart deploy generate --check` fails (naming the
file, with a diff) when one is out of date, and `tests/deploy/` runs the same check.

The manifests themselves are built in `skaart.manifests`; this module lists the files and
writes or checks them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from contracts.topics import SERVICES, TOPICS
from skaart.manifests.cluster import (
    AGENCY_EXAMPLE_USER,
    FRONT_ENDS,
    LABEL_STAGE,
    SINGLETON_SERVICES,
    kafka_user_name,
    service_package,
    service_secret_name,
)
from skaart.manifests.kafka import (
    ConsumerGroup,
    agency_acls,
    consumer_group_prefix,
    consumer_groups,
    kafka_topic,
    kafka_user,
    public_topics,
    public_topics_markdown,
    scaled_object,
    service_acls,
    trigger_authentication,
)
from skaart.manifests.network import network_policy, portal_network_policy
from skaart.manifests.settings_docs import settings_docs, settings_table_markdown
from skaart.manifests.yaml_writer import to_yaml

# What the deploy tests and `skaart deploy` read from here.
__all__ = [
    "FRONT_ENDS",
    "LABEL_STAGE",
    "REPO_ROOT",
    "SERVICES",
    "GeneratedFile",
    "OutOfDate",
    "consumer_group_prefix",
    "consumer_groups",
    "expected_contents",
    "generated_files",
    "kafka_user_name",
    "public_topics",
    "service_package",
    "service_secret_name",
    "settings_docs",
    "stale_files",
    "write_all",
]

REPO_ROOT = Path(__file__).resolve().parents[1]

MARKER_BEGIN = "<!-- BEGIN GENERATED: {name} (skaart deploy generate) -->"
MARKER_END = "<!-- END GENERATED: {name} -->"


@dataclass(frozen=True)
class GeneratedFile:
    """A whole generated file, or the generated region of a hand-written doc."""

    path: str
    content: str
    region: str | None = None


TOPICS_SOURCE = "contracts/topics.py"


def generated_files() -> list[GeneratedFile]:
    """Every generated file, computed from the registries as they are now."""
    return [*_kafka_files(), *_service_files(), *_doc_regions()]


def _kafka_files() -> list[GeneratedFile]:
    """The Strimzi topics, the services' Kafka users and the agencies' example user."""
    return [
        GeneratedFile(
            "deploy/base/kafka/topics.yaml",
            to_yaml([kafka_topic(spec) for spec in TOPICS.values()], source=TOPICS_SOURCE),
        ),
        GeneratedFile(
            "deploy/base/kafka/users.yaml",
            to_yaml(
                [
                    kafka_user(
                        kafka_user_name(service),
                        service_acls(service),
                        {"app.kubernetes.io/name": service, LABEL_STAGE: "kafka"},
                    )
                    for service in SERVICES
                ],
                source=TOPICS_SOURCE,
            ),
        ),
        GeneratedFile(
            "deploy/agencies/kafkauser-example.yaml",
            to_yaml(
                [
                    kafka_user(
                        AGENCY_EXAMPLE_USER,
                        agency_acls(AGENCY_EXAMPLE_USER),
                        {"socialekaart.be/agency": AGENCY_EXAMPLE_USER, LABEL_STAGE: "kafka"},
                    )
                ],
                source=f"{TOPICS_SOURCE} (public topics read by agencies)",
            ),
        ),
    ]


def _service_files() -> list[GeneratedFile]:
    """Each service's network policy and (unless it runs alone) KEDA scaling; the portal's
    network policy."""
    files: list[GeneratedFile] = []
    groups = consumer_groups()
    for service in SERVICES:
        files.append(
            GeneratedFile(
                f"deploy/base/{service}/networkpolicy.yaml",
                to_yaml([network_policy(service)], source=f"the settings of {service}"),
            )
        )
        if service not in SINGLETON_SERVICES:
            files.append(_scaling_file(service, groups[service]))
    files.append(
        GeneratedFile(
            "deploy/base/portal/networkpolicy.yaml",
            to_yaml([portal_network_policy()], source="the services the portal calls"),
        )
    )
    return files


def _scaling_file(service: str, groups: list[ConsumerGroup]) -> GeneratedFile:
    return GeneratedFile(
        f"deploy/base/{service}/scaling.yaml",
        to_yaml(
            [scaled_object(service, groups)]
            + ([trigger_authentication(service)] if groups else []),
            source=f"the consumer groups of {service}",
        ),
    )


def _doc_regions() -> list[GeneratedFile]:
    """The generated tables inside hand-written docs."""
    return [
        GeneratedFile("docs/settings.md", settings_table_markdown(), region="settings"),
        GeneratedFile("docs/agencies.md", public_topics_markdown(), region="public-topics"),
    ]


class OutOfDate(Exception):
    """A doc lacks the markers of its generated region."""


def _merge_region(current: str, name: str, content: str, path: str) -> str:
    begin, end = MARKER_BEGIN.format(name=name), MARKER_END.format(name=name)
    start, stop = current.find(begin), current.find(end)
    if start < 0 or stop < start:
        raise OutOfDate(
            f"{path}: the markers `{begin}` and `{end}` are missing; put them, on lines of "
            "their own, where the generated table belongs, then run `skaart deploy generate`"
        )
    return current[: start + len(begin)] + "\n\n" + content + "\n" + current[stop:]


def expected_contents(root: Path, files: Iterable[GeneratedFile]) -> dict[str, str]:
    """What each file must contain (a doc keeps its hand-written text around its region)."""
    expected: dict[str, str] = {}
    for item in files:
        if item.region is None:
            expected[item.path] = item.content
        else:
            target = root / item.path
            current = target.read_text(encoding="utf-8") if target.exists() else ""
            expected[item.path] = _merge_region(current, item.region, item.content, item.path)
    return expected


def stale_files(root: Path = REPO_ROOT) -> dict[str, str]:
    """The out-of-date files, each with a unified diff (committed -> generated)."""
    stale: dict[str, str] = {}
    for path, content in expected_contents(root, generated_files()).items():
        target = root / path
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != content:
            stale[path] = "".join(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    content.splitlines(keepends=True),
                    fromfile=f"{path} (committed)",
                    tofile=f"{path} (generated)",
                )
            )
    return stale


def write_all(root: Path = REPO_ROOT) -> list[str]:
    """Write every out-of-date file; returns the paths written."""
    written = []
    for path, content in expected_contents(root, generated_files()).items():
        target = root / path
        if not target.exists() or target.read_text(encoding="utf-8") != content:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            written.append(path)
    return written
