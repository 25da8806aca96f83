"""Applying validated source records to registry-sync's state, with their events.

Shared by snapshot imports and delta-feed pulls. One call is one transaction's worth:
the new state and the events it causes are written together (transactional outbox).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import Event
from contracts.events.registry import (
    ProfessionalIdentified,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
    StatusChangeReason,
)
from registry_sync.adapters import tables
from registry_sync.domain.changes import ProfessionalFacts, change_events, registration_events
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.domain.source_record import SourceProfessional
from registry_sync.handlers.sync_summary import ImportSummary
from servicekit.database import as_utc
from servicekit.messaging.outbox import Outbox


def facts_of(record: SourceProfessional) -> ProfessionalFacts:
    """The facts registry-sync keeps of a source record."""
    return ProfessionalFacts(
        last_name=record.last_name,
        first_name=record.first_name,
        language=record.language,
        practice_ban=record.practice_ban,
        deceased=record.deceased,
        professions=tuple(p.to_record() for p in record.professions),
    )


async def known_by_hash(session: AsyncSession, hashes: list[str]) -> dict[str, Any]:
    """Stored rows of these people, by keyed hash."""
    table = tables.professionals
    rows = await session.execute(
        sa.select(
            table.c.professional_id,
            table.c.nrn_hash,
            table.c.source_version,
            table.c.facts,
            table.c.removed,
        ).where(table.c.nrn_hash.in_(hashes))
    )
    return {row.nrn_hash: row for row in rows}


def _comeback_events(
    professional_id: str, facts: ProfessionalFacts, version: datetime
) -> list[Event]:
    # Back in the source after a removal: the complete facts, and "reactivated" when they
    # may practise again (fiches does not republish by itself: DOMAIN.md).
    events: list[Event] = [
        ProfessionalUpdated(
            professional_id=professional_id,
            last_name=facts.last_name,
            first_name=facts.first_name,
            language=facts.language,
            practice_ban=facts.practice_ban,
            deceased=facts.deceased,
            professions=facts.professions,
            may_practise=facts.may_practise(),
            source_version=version,
        )
    ]
    if facts.may_practise():
        events.append(
            ProfessionalStatusChanged(
                professional_id=professional_id,
                reason=StatusChangeReason.REACTIVATED,
                professions=facts.active_professions(),
                active_professions=facts.active_professions(),
                may_practise=True,
                source_version=version,
            )
        )
    return events


async def apply_records(
    session: AsyncSession,
    records: Iterable[SourceProfessional],
    *,
    hasher: NrnHasher,
    outbox: Outbox,
    summary: ImportSummary,
) -> None:
    """Store what changed for these records and queue the events; never commits."""
    table = tables.professionals
    batch = list(records)
    hashes = [hasher.hash(record.ssin) for record in batch]
    known = await known_by_hash(session, hashes)
    now = datetime.now(UTC)
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    events: list[Event] = []
    for record, nrn_hash in zip(batch, hashes, strict=True):
        existing = known.get(nrn_hash)
        if record.removed:
            if existing is None or existing.removed:
                summary.unchanged += 1
                continue
            if record.version < as_utc(existing.source_version):
                summary.stale += 1
                continue
            updates.append(
                _update_row(existing.professional_id, record.version, existing.facts, True, now)
            )
            events.append(
                ProfessionalRemoved(
                    professional_id=existing.professional_id, source_version=record.version
                )
            )
            summary.removed += 1
            continue
        facts = facts_of(record)
        if existing is None:
            professional_id = str(uuid.uuid4())
            inserts.append(
                {
                    "professional_id": professional_id,
                    "nrn_hash": nrn_hash,
                    "source_version": record.version,
                    "facts": facts.to_json(),
                    "removed": False,
                    "updated_at": now,
                }
            )
            events.extend(registration_events(professional_id, facts, record.version))
            events.append(
                ProfessionalIdentified(professional_id=professional_id, nrn_hash=nrn_hash)
            )
            summary.registered += 1
            continue
        if record.version < as_utc(existing.source_version):
            summary.stale += 1
            continue
        if existing.removed:
            changes = _comeback_events(existing.professional_id, facts, record.version)
        else:
            changes = change_events(
                existing.professional_id,
                ProfessionalFacts.from_json(existing.facts),
                facts,
                record.version,
            )
        if not changes:
            summary.unchanged += 1
            continue
        updates.append(
            _update_row(existing.professional_id, record.version, facts.to_json(), False, now)
        )
        events.extend(changes)
        summary.updated += 1
        for change in changes:
            if isinstance(change, ProfessionalStatusChanged):
                summary.status_changes[change.reason.value] += 1
    connection = await session.connection()
    if inserts:
        await connection.execute(sa.insert(table), inserts)
    if updates:
        await connection.execute(
            sa.update(table)
            .where(table.c.professional_id == sa.bindparam("b_id"))
            .values(
                source_version=sa.bindparam("source_version"),
                facts=sa.bindparam("facts"),
                removed=sa.bindparam("removed"),
                updated_at=sa.bindparam("updated_at"),
            ),
            updates,
        )
    summary.events_published += await outbox.add_all(session, events)


def _update_row(
    professional_id: str, version: datetime, facts: Any, removed: bool, now: datetime
) -> dict[str, object]:
    return {
        "b_id": professional_id,
        "source_version": version,
        "facts": facts,
        "removed": removed,
        "updated_at": now,
    }


async def remove_people(
    session: AsyncSession,
    people: list[tuple[str, datetime]],
    *,
    outbox: Outbox,
    summary: ImportSummary,
) -> None:
    """Mark people missing from a full snapshot as no longer in the source.

    Each ProfessionalRemoved carries the person's last known source version: a snapshot
    says nothing newer about them, and a later comeback with that same version must not
    look older than the removal it undoes.
    """
    if not people:
        return
    table = tables.professionals
    await (await session.connection()).execute(
        sa.update(table)
        .where(table.c.professional_id.in_([pid for pid, _ in people]))
        .values(removed=True, updated_at=datetime.now(UTC))
    )
    summary.removed += len(people)
    summary.events_published += await outbox.add_all(
        session,
        [
            ProfessionalRemoved(professional_id=pid, source_version=version)
            for pid, version in people
        ],
    )
