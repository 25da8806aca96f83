"""Applying validated source records to registry-sync's state, with their events.

Shared by snapshot imports and delta-feed pulls. One call is one transaction's worth:
the new state and the events it causes are written together (transactional outbox).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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
from registry_sync.domain.person_change import PersonChange, facts_of
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.domain.source_record import SourceProfessional
from registry_sync.handlers.sync_summary import ImportSummary
from servicekit.database import as_utc
from servicekit.messaging.outbox import Outbox

__all__ = [
    "PersonChange",
    "apply_changes",
    "apply_records",
    "facts_of",
    "known_by_hash",
    "remove_people",
]


async def known_by_hash(session: AsyncSession, hashes: Sequence[str]) -> dict[str, Any]:
    """Stored rows of these people, by keyed hash."""
    table = tables.professionals
    rows = await session.execute(
        sa.select(
            table.c.professional_id,
            table.c.nrn_hash,
            table.c.source_version,
            table.c.facts,
            table.c.removed,
            table.c.line_digest,
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


@dataclass
class _Writes:
    """The rows and events of one call, written set-based at the end."""

    now: datetime
    inserts: list[dict[str, object]] = field(default_factory=list)
    updates: list[dict[str, object]] = field(default_factory=list)
    digests: list[dict[str, object]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def update(self, professional_id: str, change: PersonChange, facts: Any, removed: bool) -> None:
        self.updates.append(
            {
                "b_id": professional_id,
                "source_version": change.version,
                "facts": facts,
                "removed": removed,
                "line_digest": change.line_digest,
                "updated_at": self.now,
            }
        )


def _apply_removal(
    change: PersonChange, existing: Any, writes: _Writes, summary: ImportSummary
) -> None:
    if existing is None or existing.removed:
        summary.unchanged += 1
        return
    if change.version < as_utc(existing.source_version):
        summary.stale += 1
        return
    writes.update(existing.professional_id, change, existing.facts, True)
    writes.events.append(
        ProfessionalRemoved(professional_id=existing.professional_id, source_version=change.version)
    )
    summary.removed += 1


def _apply_new(
    change: PersonChange, facts: ProfessionalFacts, writes: _Writes, summary: ImportSummary
) -> None:
    professional_id = str(uuid.uuid4())
    writes.inserts.append(
        {
            "professional_id": professional_id,
            "nrn_hash": change.nrn_hash,
            "source_version": change.version,
            "facts": change.stored_facts,
            "removed": False,
            "line_digest": change.line_digest,
            "updated_at": writes.now,
        }
    )
    writes.events.extend(registration_events(professional_id, facts, change.version))
    writes.events.append(
        ProfessionalIdentified(professional_id=professional_id, nrn_hash=change.nrn_hash)
    )
    summary.registered += 1


def _apply_known(
    change: PersonChange,
    facts: ProfessionalFacts,
    existing: Any,
    writes: _Writes,
    summary: ImportSummary,
) -> None:
    if change.version < as_utc(existing.source_version):
        summary.stale += 1
        return
    if existing.removed:
        changes = _comeback_events(existing.professional_id, facts, change.version)
    else:
        changes = change_events(
            existing.professional_id,
            ProfessionalFacts.from_json(existing.facts),
            facts,
            change.version,
        )
    if not changes:
        # The same facts written differently (another serialisation, a newer version that
        # changed nothing we keep): nothing to publish, but remember this line's digest so
        # the next import of it skips it unparsed.
        summary.unchanged += 1
        if change.line_digest is not None and existing.line_digest != change.line_digest:
            writes.digests.append(
                {"b_id": existing.professional_id, "line_digest": change.line_digest}
            )
        return
    writes.update(existing.professional_id, change, change.stored_facts, False)
    writes.events.extend(changes)
    summary.updated += 1
    for event in changes:
        if isinstance(event, ProfessionalStatusChanged):
            summary.status_changes[event.reason.value] += 1


async def apply_changes(
    session: AsyncSession,
    changes: Sequence[PersonChange],
    *,
    outbox: Outbox,
    summary: ImportSummary,
) -> None:
    """Store what changed for these people and queue the events; never commits.

    The stored state is read here, in the caller's transaction, so a change applied by
    another run since the caller looked is never overwritten by an older one.
    """
    known = await known_by_hash(session, [change.nrn_hash for change in changes])
    writes = _Writes(now=datetime.now(UTC))
    for change in changes:
        existing = known.get(change.nrn_hash)
        if change.stored_facts is None:
            _apply_removal(change, existing, writes, summary)
        elif existing is None:
            _apply_new(change, change.facts(), writes, summary)
        else:
            _apply_known(change, change.facts(), existing, writes, summary)
    await _write(session, writes)
    summary.events_published += await outbox.add_all(session, writes.events)


async def _write(session: AsyncSession, writes: _Writes) -> None:
    table = tables.professionals
    connection = await session.connection()
    if writes.inserts:
        await connection.execute(sa.insert(table), writes.inserts)
    if writes.updates:
        await connection.execute(
            sa.update(table)
            .where(table.c.professional_id == sa.bindparam("b_id"))
            .values(
                source_version=sa.bindparam("source_version"),
                facts=sa.bindparam("facts"),
                removed=sa.bindparam("removed"),
                line_digest=sa.bindparam("line_digest"),
                updated_at=sa.bindparam("updated_at"),
            ),
            writes.updates,
        )
    if writes.digests:
        await connection.execute(
            sa.update(table)
            .where(table.c.professional_id == sa.bindparam("b_id"))
            .values(line_digest=sa.bindparam("line_digest")),
            writes.digests,
        )


async def apply_records(
    session: AsyncSession,
    records: Iterable[SourceProfessional],
    *,
    hasher: NrnHasher,
    outbox: Outbox,
    summary: ImportSummary,
) -> None:
    """`apply_changes` for validated records (the delta feed); never commits."""
    changes = [PersonChange.of(record, hasher.hash(record.ssin)) for record in records]
    await apply_changes(session, changes, outbox=outbox, summary=summary)


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
