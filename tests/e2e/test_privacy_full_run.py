"""No national register number leaves the source file: a full run, every place looked at.

registry-sync and fiches run against a real broker. After an import, a follow-up with
stops and a removal, every topic of `contracts.topics.TOPICS` (values, keys, header
values), every row of every table of both databases and every log record are searched
for the generated national register numbers (`ssin`). Each haystack is checked to hold
what it should (names, ids, hashes, a canary log line), so the search cannot pass by
looking at nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.events.fiches import PROVIDERS_TOPIC
from contracts.events.registry import IDENTITIES_TOPIC, PROFESSIONALS_TOPIC
from contracts.topics import TOPICS, Visibility
from fiches.adapters import tables as fiches_tables
from registry_sync.adapters import tables as registry_tables
from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.app import nrn_hasher
from registry_sync.simulator.demo_data import (
    follow_up_snapshot,
    generate_professionals,
    write_snapshot,
)
from servicekit.settings import KafkaSettings
from tests.support.infrastructure import wait_for
from tests.support.kafka_reading import header, read_topic
from tests.support.platform import running_platform

pytestmark = pytest.mark.e2e

COUNT = 100
SEED = 41
FOLLOW_UP_VERSION = "2026-11-28T06:00:00Z"
PUBLISHED = "be.socialekaart.fiches.ProviderFichePublished"
DEPUBLISHED = "be.socialekaart.fiches.ProviderFicheDepublished"


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def message_text(record: Any) -> str:
    """A Kafka record's key, value and header names and values, as text."""
    headers = " ".join(f"{name}={_text(value)}" for name, value in record.headers or ())
    return f"key={_text(record.key)} value={_text(record.value)} headers={headers}"


async def topic_texts(kafka: KafkaSettings) -> dict[str, list[str]]:
    """Every message of every topic the contracts declare, as text."""
    return {name: [message_text(r) for r in await read_topic(kafka, name)] for name in TOPICS}


async def database_rows(engine: AsyncEngine) -> dict[str, list[str]]:
    """`str()` of every row of every table the database holds, by table."""

    def read(connection: sa.Connection) -> dict[str, list[str]]:
        metadata = sa.MetaData()
        metadata.reflect(connection)
        return {
            table.name: [str(row) for row in connection.execute(sa.select(table))]
            for table in metadata.sorted_tables
        }

    async with engine.connect() as connection:
        return await connection.run_sync(read)


def log_text(records: Iterable[logging.LogRecord]) -> str:
    """Every captured record: message, attributes, and as formatted with its traceback."""
    formatter = logging.Formatter()
    return "\n".join(
        f"{record.getMessage()} {record.__dict__} {formatter.format(record)}" for record in records
    )


def found(ssins: Iterable[str], haystack: str) -> list[str]:
    return [ssin for ssin in ssins if ssin in haystack]


async def test_no_national_register_number_in_any_topic_table_or_log_line(
    kafka: KafkaSettings,
    tmp_path: Path,
    database_url_factory: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    records = list(generate_professionals(COUNT, SEED))
    ssins = [record["ssin"] for record in records]
    assert len(set(ssins)) == COUNT
    first = tmp_path / "snapshot-1.jsonl"
    write_snapshot(first, records)
    changed = list(
        follow_up_snapshot(
            records, change_percent=10, seed=SEED, new_version=FOLLOW_UP_VERSION, total=COUNT
        )
    )
    stopped = [record for record, reason in changed if reason is not None]
    gone = next(record for record, reason in changed if reason is None)
    second = tmp_path / "snapshot-2.jsonl"
    write_snapshot(second, (record for record, _ in changed if record is not gone))
    canary = f"privacy-canary-{uuid.uuid4().hex}"

    async with running_platform(kafka, tmp_path, database_url_factory) as platform:
        hasher = nrn_hasher(RegistrySyncSettings(), platform.platform)
        registered = await platform.import_file(first)
        assert registered.registered == COUNT

        async def all_published() -> bool:
            return await platform.published_total() == COUNT

        await wait_for(all_published, timeout_s=60)
        gone_id = await platform.professional_id_of(gone["ssin"])
        # 10% stop and one person leaves: more than the guard allows, so the operator forces.
        follow_up = await platform.import_file(second, force=True)
        assert follow_up.removed == 1
        assert follow_up.updated == len(stopped)

        async def settled() -> bool:
            return await platform.published_total() == COUNT - len(stopped) - 1

        await wait_for(settled, timeout_s=60)
        assert await platform.fiche_of(gone_id) is None
        registry_events = registered.events_published + follow_up.events_published
        # Every fiche published once; the stopped and the removed depublished.
        provider_events = {PUBLISHED: COUNT, DEPUBLISHED: len(stopped) + 1}

        async def all_on_the_broker() -> bool:
            on_registry = len(await read_topic(kafka, PROFESSIONALS_TOPIC)) + len(
                await read_topic(kafka, IDENTITIES_TOPIC)
            )
            on_fiches = Counter(
                header(r, "ce_type") for r in await read_topic(kafka, PROVIDERS_TOPIC)
            )
            return on_registry == registry_events and all(
                on_fiches[kind] == count for kind, count in provider_events.items()
            )

        await wait_for(all_on_the_broker, timeout_s=60, interval_s=0.2)
        registry_rows = await database_rows(platform.registry.runtime.engine)
        fiches_rows = await database_rows(platform.fiches.runtime.engine)
        logging.getLogger("registry_sync").info("haystack check %s", canary)

    messages = await topic_texts(kafka)
    keyed_hashes = [hasher.hash(ssin) for ssin in ssins]

    # The haystacks hold what they should: the search looks at real content.
    assert set(messages) == set(TOPICS)
    assert len(messages[PROFESSIONALS_TOPIC]) + len(messages[IDENTITIES_TOPIC]) == registry_events
    assert len(messages[PROVIDERS_TOPIC]) >= sum(provider_events.values())
    kafka_text = "\n".join(text for texts in messages.values() for text in texts)
    assert gone_id in kafka_text
    assert records[0]["last_name"] in kafka_text
    assert "ce_type=be.socialekaart.registry.ProfessionalRemoved" in kafka_text
    identities = "\n".join(messages[IDENTITIES_TOPIC])
    assert "nrn_hash" in identities
    assert found(keyed_hashes, identities) == keyed_hashes
    assert set(registry_tables.metadata.tables) <= set(registry_rows)
    assert set(fiches_tables.metadata.tables) <= set(fiches_rows)
    assert len(registry_rows["professionals"]) == COUNT
    assert len(registry_rows["sync_runs"]) == 2
    assert len(fiches_rows["provider_fiches"]) == COUNT
    database_text = "\n".join(
        f"{name}: {row}"
        for rows in (registry_rows, fiches_rows)
        for name, table_rows in rows.items()
        for row in table_rows
    )
    assert gone_id in database_text
    assert found(keyed_hashes, database_text) == keyed_hashes
    assert records[0]["last_name"] in database_text
    logged = log_text(caplog.records)
    assert canary in logged
    assert any(r.name.startswith(("registry_sync", "fiches", "servicekit")) for r in caplog.records)

    # No national register number anywhere.
    for topic, texts in messages.items():
        assert found(ssins, "\n".join(texts)) == [], f"national register number on {topic}"
    for name, table_rows in (*registry_rows.items(), *fiches_rows.items()):
        assert found(ssins, "\n".join(table_rows)) == [], f"national register number in {name}"
    assert found(ssins, logged) == [], "national register number in the logs"

    # Public topics carry no keyed hash either, under its name or by value.
    public = [name for name, spec in TOPICS.items() if spec.visibility is Visibility.PUBLIC]
    assert PROFESSIONALS_TOPIC in public
    assert PROVIDERS_TOPIC in public
    for topic in public:
        text = "\n".join(messages[topic])
        assert "nrn_hash" not in text, f"nrn_hash on public topic {topic}"
        assert found(keyed_hashes, text) == [], f"keyed hash on public topic {topic}"
