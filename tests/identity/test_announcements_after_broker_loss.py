"""identity after a broker lost its topics: its keys are announced again at every start,
and registry-sync's re-announcement changes nothing it already holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from contracts.base import Event
from contracts.events.identity import SIGNING_KEYS_TOPIC
from contracts.events.registry import (
    ProfessionalIdentified,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
)
from identity.adapters.tables import registry_identities, registry_professionals
from identity.handlers import registry_events
from registry_sync.domain.changes import (
    ProfessionalFacts,
    change_events,
    reannouncement_events,
    registration_events,
)
from servicekit.settings import KafkaSettings
from tests.identity.flows import running_identity
from tests.support.infrastructure import wait_for
from tests.support.kafka_reading import read_topic

VERSION = datetime(2026, 11, 27, 22, tzinfo=UTC)
LATER = datetime(2026, 11, 28, 6, tzinfo=UTC)


async def test_every_start_announces_the_signing_keys_in_use_again(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}"
    async with running_identity(kafka, tmp_path, database_url=database) as identity:
        await identity.outbox_drained()
        async with identity.component.runtime.sessions() as session:
            kid = (await identity.component.use_cases.keys.current(session)).kid

    async def announcements() -> list[dict[str, Any]]:
        records = await read_topic(kafka, SIGNING_KEYS_TOPIC)
        return [event for r in records if (event := json.loads(r.value))["kid"] == kid]

    assert len(await announcements()) == 1
    async with running_identity(kafka, tmp_path, database_url=database) as identity:

        async def announced_again() -> bool:
            return len(await announcements()) == 2

        await wait_for(announced_again, timeout_s=30, interval_s=0.2)
        async with identity.component.runtime.sessions() as session:
            # Still the same key, still usable: the repeat is not a new announcement.
            assert (await identity.component.use_cases.keys.current(session)).kid == kid

    ours = await announcements()
    assert ours[0]["public_jwk"] == ours[1]["public_jwk"]
    assert ours[0]["not_before"] == ours[1]["not_before"]


def facts(**changes: Any) -> ProfessionalFacts:
    from contracts.events.registry import ProfessionRecord

    values: dict[str, Any] = {
        "last_name": "Segers",
        "first_name": "Albert",
        "language": "nl",
        "practice_ban": False,
        "deceased": False,
        "professions": (
            ProfessionRecord.model_validate(
                {
                    "profession": "nurse",
                    "visa_status": "active",
                    "riziv_number": "42345601004",
                    "riziv_status": "active",
                }
            ),
            ProfessionRecord.model_validate(
                {"profession": "psychologist", "visa_status": "active"}
            ),
        ),
    }
    return ProfessionalFacts(**{**values, **changes})


async def apply(session: Any, events: list[Event]) -> None:
    for event in events:
        if isinstance(event, ProfessionalIdentified):
            await registry_events.professional_identified(session, event)
        elif isinstance(event, ProfessionalUpdated):
            await registry_events.professional_facts(session, event)
        elif isinstance(event, ProfessionalStatusChanged):
            await registry_events.professional_status_changed(session, event)
        elif isinstance(event, ProfessionalRemoved):
            await registry_events.professional_removed(session, event)
        else:
            await registry_events.professional_facts(session, event)  # type: ignore[arg-type]


async def view(session: Any) -> list[Any]:
    rows = await session.execute(
        sa.select(registry_professionals, registry_identities.c.nrn_hash)
        .join(
            registry_identities,
            registry_identities.c.professional_id == registry_professionals.c.professional_id,
        )
        .order_by(registry_professionals.c.professional_id)
    )
    return [tuple(row) for row in rows]


async def test_a_reannouncement_of_what_identity_holds_changes_nothing(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    stopped = facts(deceased=True)
    people = {
        "prof-active": (facts(), False),
        "prof-deceased": (stopped, False),
        "prof-gone": (facts(), True),
    }
    async with running_identity(kafka, tmp_path) as identity:
        async with identity.component.runtime.sessions.begin() as session:
            for pid, (current, removed) in people.items():
                await apply(
                    session, [ProfessionalIdentified(professional_id=pid, nrn_hash=pid * 2)]
                )
                await apply(session, registration_events(pid, facts(), VERSION))
                if current != facts():
                    await apply(session, change_events(pid, facts(), current, LATER))
                if removed:
                    await apply(
                        session, [ProfessionalRemoved(professional_id=pid, source_version=LATER)]
                    )
        async with identity.component.runtime.sessions() as session:
            before = await view(session)

        for _ in range(2):
            async with identity.component.runtime.sessions.begin() as session:
                for pid, (current, removed) in people.items():
                    version = VERSION if current == facts() and not removed else LATER
                    await apply(
                        session,
                        reannouncement_events(pid, pid * 2, current, version, removed=removed),
                    )
            async with identity.component.runtime.sessions() as session:
                assert await view(session) == before
