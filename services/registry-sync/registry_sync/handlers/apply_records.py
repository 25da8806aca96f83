"""Applying validated source records to registry-sync's state, with their events.

Shared by snapshot imports and delta-feed pulls. One call is one transaction's worth:
the new state and the events it causes are written together (transactional outbox).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import Event
from contracts.events.registry import (
    ProfessionalIdentified,
    ProfessionalRegistered,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
    StatusChangeReason,
)
from registry_sync.adapters import tables
from registry_sync.domain.changes import (
    ProfessionalFacts,
    change_events,
    identified_payload,
    registration_payload,
)
from registry_sync.domain.person_change import PersonChange, facts_of
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.domain.source_record import SourceProfessional
from registry_sync.handlers.sync_summary import ImportSummary
from servicekit.database import as_utc
from servicekit.messaging.bulk import copy_rows
from servicekit.messaging.outbox import Outbox, random_uuids

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
    """The rows of one call, written set-based at the end; outbox rows in event order."""

    now: datetime
    outbox: Outbox
    inserts: list[dict[str, object]] = field(default_factory=list)
    updates: list[dict[str, object]] = field(default_factory=list)
    digests: list[dict[str, object]] = field(default_factory=list)
    rows: list[dict[str, object]] = field(default_factory=list)
    _ids: list[str] = field(default_factory=list)

    def new_id(self) -> str:
        """A fresh random UUID (drawn in bulk: a first import needs three per person)."""
        if not self._ids:
            self._ids = random_uuids(_IDS_AT_ONCE)
        return self._ids.pop()

    def queue(self, events: Iterable[Event]) -> None:
        """Queue these events' outbox rows."""
        self.rows.extend(self.outbox.row_for(event, now=self.now) for event in events)

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


_IDS_AT_ONCE = 512


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
    removal = ProfessionalRemoved(
        professional_id=existing.professional_id, source_version=change.version
    )
    writes.queue([removal])
    summary.removed += 1


def _apply_new(change: PersonChange, writes: _Writes, summary: ImportSummary) -> None:
    """A person seen for the first time: their row, ProfessionalRegistered and -Identified.

    The two events are encoded straight from the stored facts (`registration_payload`):
    building and dumping the event objects cost more than the rest of a first import.
    """
    assert change.stored_facts is not None
    professional_id = writes.new_id()
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
    writes.rows.append(
        writes.outbox.encoded_row(
            ProfessionalRegistered,
            key=professional_id,
            payload=registration_payload(professional_id, change.stored_facts, change.version),
            now=writes.now,
            event_id=writes.new_id(),
        )
    )
    writes.rows.append(
        writes.outbox.encoded_row(
            ProfessionalIdentified,
            key=professional_id,
            payload=identified_payload(professional_id, change.nrn_hash),
            now=writes.now,
            event_id=writes.new_id(),
        )
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
    writes.queue(changes)
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
    writes = _Writes(now=datetime.now(UTC), outbox=outbox)
    for change in changes:
        existing = known.get(change.nrn_hash)
        if change.stored_facts is None:
            _apply_removal(change, existing, writes, summary)
        elif existing is None:
            _apply_new(change, writes, summary)
        else:
            _apply_known(change, change.facts(), existing, writes, summary)
    await _write(session, writes)
    summary.events_published += await outbox.add_rows(session, writes.rows, bulk=True)


async def _write(session: AsyncSession, writes: _Writes) -> None:
    table = tables.professionals
    connection = await session.connection()
    if writes.inserts:
        # COPY on PostgreSQL: the stored state was read above, in this transaction.
        await copy_rows(connection, table, writes.inserts)
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
