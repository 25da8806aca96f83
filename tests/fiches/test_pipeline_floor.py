"""The floor of bench/pipeline.py writes the rows fiches' consumer writes, on both backends.

The benchmark compares fiches with that floor; the comparison means something only if the
floor does the same writes (values as stored, not just as read back).
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from bench.pipeline_floor import open_floor
from contracts.envelope import Envelope
from contracts.events.registry import RegistrationStatus
from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component
from registry_sync.adapters.snapshot_files import parse_line
from registry_sync.domain.changes import registration_events
from registry_sync.handlers.apply_records import facts_of
from registry_sync.simulator.demo_data import generate_professionals
from servicekit.messaging.inbox import InboxConsumer
from servicekit.settings import KafkaSettings, PlatformSettings


def registrations(count: int) -> list[SimpleNamespace]:
    """ProfessionalRegistered records as fiches receives them from Kafka, one in four of
    someone who may not practise (their RIZIV numbers inactive)."""
    records = []
    for offset, line in enumerate(generate_professionals(count, 7)):
        source = parse_line(offset, orjson.dumps(line)).record
        assert source is not None
        event = registration_events(str(uuid.uuid4()), facts_of(source), source.version)[0]
        if offset % 4 == 0:  # one in four may not practise: a fiche, but not published
            inactive = tuple(
                p.model_copy(update={"riziv_status": RegistrationStatus.INACTIVE})
                for p in event.professions
            )
            event = event.model_copy(update={"professions": inactive, "may_practise": False})
        envelope = Envelope(source="/test", type=event.event_type, subject=event.partition_key())
        records.append(
            SimpleNamespace(
                topic=event.topic,
                partition=offset % 3,
                offset=offset,
                key=event.partition_key().encode(),
                value=event.model_dump_json().encode(),
                headers=envelope.to_headers(),
            )
        )
    return records


async def stored(runtime: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the three tables as the driver returns it, generated ids replaced by
    the professional's id, moments of writing left out (they differ by construction)."""
    async with runtime.engine.connect() as connection:

        async def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in (await connection.exec_driver_sql(sql)).all()]

        fiches = await rows(
            "SELECT fiche_id, professional_id, official_last_name, official_first_name, "
            "search_name, language, professions, profession_codes, practice_ban, deceased, "
            "may_practise, registry_version, published, revision, depublication_reason, "
            "own_draft, own_published, own_version FROM provider_fiches"
        )
        person = {row[0]: row[1] for row in fiches}
        outbox = []
        for topic, key, headers, payload in await rows(
            "SELECT topic, message_key, headers, payload FROM outbox_messages"
        ):
            event = orjson.loads(payload)
            assert event.pop("occurred_at").endswith("Z")
            event["fiche_id"] = person[event["fiche_id"]]
            # SQLite returns the JSON text; SQLAlchemy's asyncpg connections decode it.
            envelope = dict(orjson.loads(headers) if isinstance(headers, str) else headers)
            for name in ("ce_id", "ce_time"):
                assert envelope.pop(name)
            envelope["ce_subject"] = person[envelope["ce_subject"]]
            outbox.append((topic, person[key], envelope, event))
        inbox = await rows(
            'SELECT consumer, event_id, topic, partition, "offset" FROM inbox_messages'
        )
    return {
        "provider_fiches": sorted(row[1:] for row in fiches),
        "outbox": sorted(outbox, key=repr),
        "inbox": sorted(inbox),
    }


@pytest.mark.parametrize("batch", [7])
async def test_the_floor_writes_the_rows_fiches_writes(
    database_url_factory: Any, tmp_path: Any, batch: int
) -> None:
    records = registrations(40)
    runtimes = []
    for name in ("fiches", "floor"):
        component = build_component(
            PlatformSettings(data_dir=tmp_path / name),
            KafkaSettings(bootstrap_servers="127.0.0.1:1"),
            FichesSettings(database_url=await database_url_factory(name)),
        )
        await component.runtime.migrate()
        runtimes.append(component.runtime)
    fiches, floor_runtime = runtimes
    consumer = InboxConsumer(
        service="fiches",
        subscription=fiches.subscriptions[0],
        sessions=fiches.sessions,
        inbox_table=fiches.tables.inbox,
        dead_letters=None,  # type: ignore[arg-type]  # nothing fails here
    )
    floor = await open_floor(floor_runtime.database_url)
    try:
        for start in range(0, len(records), batch):
            await consumer.handle_batch(records[start : start + batch])
            await floor.write_batch(records[start : start + batch])
    finally:
        await floor.close()
    try:
        expected, got = await stored(fiches), await stored(floor_runtime)
    finally:
        for runtime in runtimes:
            await runtime.engine.dispose()
    published = [row for row in expected["provider_fiches"] if row[11]]
    # Both kinds of registration are among the records: published and not.
    assert 0 < len(published) < len(records)
    assert len(expected["outbox"]) == len(published)
    assert len(expected["inbox"]) == len(records)
    assert got == expected
