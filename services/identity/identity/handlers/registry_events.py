"""identity's eligibility view, kept from registry-sync's events.

`registry.identities.v1` pairs a keyed national-register hash with a `professional_id`;
`registry.professionals.v1` says what that person may practise. Both are applied in the
consumer's batch transaction; an event older than the facts held is ignored. Which
topic goes to which handler is declared in `entrypoints/kafka.py`.

A second group reads the professionals topic ahead of the in-order one, for status changes
and removals only (`change_read_ahead`): behind a national import's backlog a stop would
otherwise wait minutes before it ends the person's sessions. It does not touch the facts
(an update queued before the stop must still be applied, and the version must not move
past it). It records the change in `registry_changes_ahead`, and every read of the facts
(`facts_for`, `facts_of`: the login, the token exchange, the session review) replays the
changes recorded ahead of them, in version order, until the in-order group applies each in
its turn and forgets it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.registry import (
    ProfessionalIdentified,
    ProfessionalRegistered,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
    ProfessionRecord,
    RegistrationStatus,
    StatusChangeReason,
)
from identity.adapters.tables import (
    registry_changes_ahead,
    registry_identities,
    registry_professionals,
)
from identity.domain.eligibility import ProfessionalFacts
from servicekit.database import as_utc

_table = registry_professionals


async def _current(session: AsyncSession, professional_id: str) -> Any:
    return (
        await session.execute(sa.select(_table).where(_table.c.professional_id == professional_id))
    ).first()


async def _write(session: AsyncSession, professional_id: str, values: dict[str, Any]) -> None:
    existing = await _current(session, professional_id)
    if existing is None:
        await session.execute(sa.insert(_table).values(professional_id=professional_id, **values))
    else:
        await session.execute(
            sa.update(_table).where(_table.c.professional_id == professional_id).values(**values)
        )


def _is_older(existing: Any, version: datetime) -> bool:
    return existing is not None and as_utc(existing.source_version) > as_utc(version)


async def professional_identified(session: AsyncSession, event: ProfessionalIdentified) -> None:
    """Remember which keyed hash belongs to which professional."""
    await session.execute(
        sa.delete(registry_identities).where(
            registry_identities.c.professional_id == event.professional_id
        )
    )
    await session.execute(
        sa.insert(registry_identities).values(
            professional_id=event.professional_id, nrn_hash=event.nrn_hash
        )
    )


async def professional_facts(
    session: AsyncSession, event: ProfessionalRegistered | ProfessionalUpdated
) -> None:
    """The complete facts of a person (registered or updated)."""
    existing = await _current(session, event.professional_id)
    if _is_older(existing, event.source_version):
        return
    await _write(
        session,
        event.professional_id,
        {
            "professions": [p.model_dump(mode="json") for p in event.professions],
            "practice_ban": event.practice_ban,
            "deceased": event.deceased,
            "removed": False,
            "source_version": event.source_version,
        },
    )


async def professional_status_changed(
    session: AsyncSession, event: ProfessionalStatusChanged
) -> None:
    """Apply a change of the right to practise to the facts held."""
    existing = await _current(session, event.professional_id)
    if existing is None:
        raise LookupError(
            f"status change for unknown professional {event.professional_id}: "
            "its registration never reached identity"
        )
    await _forget_changes_ahead(session, event.professional_id, event.source_version)
    if _is_older(existing, event.source_version):
        return
    await _write(session, event.professional_id, _after_status_change(_values(existing), event))


def _values(row: Any) -> dict[str, Any]:
    """The stored facts of one person as the values `_write` stores."""
    return {
        "professions": list(row.professions),
        "practice_ban": bool(row.practice_ban),
        "deceased": bool(row.deceased),
        "removed": bool(row.removed),
        "source_version": row.source_version,
    }


def _after_status_change(
    values: dict[str, Any], event: ProfessionalStatusChanged
) -> dict[str, Any]:
    """The facts `values` with the status change applied (nothing is written)."""
    professions = [ProfessionRecord.model_validate(p) for p in values["professions"]]
    concerned = set(event.professions)
    active = set(event.active_professions)
    practice_ban, deceased = bool(values["practice_ban"]), bool(values["deceased"])
    updated = []
    for record in professions:
        changes: dict[str, Any] = {}
        if event.reason is StatusChangeReason.VISA_INACTIVE and record.profession in concerned:
            changes["visa_status"] = RegistrationStatus.INACTIVE
        if (
            event.reason is StatusChangeReason.RIZIV_STOPPED
            and record.profession in concerned
            and record.riziv_number is not None
        ):
            changes["riziv_status"] = RegistrationStatus.INACTIVE
        if event.reason is StatusChangeReason.REACTIVATED and record.profession in active:
            changes["visa_status"] = RegistrationStatus.ACTIVE
            if record.riziv_number is not None:
                changes["riziv_status"] = RegistrationStatus.ACTIVE
        updated.append(record.model_copy(update=changes))
    if event.reason is StatusChangeReason.PRACTICE_BAN:
        practice_ban = True
    elif event.reason is StatusChangeReason.DECEASED:
        deceased = True
    elif event.reason is StatusChangeReason.REACTIVATED and event.may_practise:
        practice_ban = deceased = False
    return {
        "professions": [p.model_dump(mode="json") for p in updated],
        "practice_ban": practice_ban,
        "deceased": deceased,
        "removed": bool(values["removed"]),
        "source_version": event.source_version,
    }


async def professional_removed(session: AsyncSession, event: ProfessionalRemoved) -> None:
    """A person left the source: no professional login until they reappear."""
    existing = await _current(session, event.professional_id)
    await _forget_changes_ahead(session, event.professional_id, event.source_version)
    if existing is None or _is_older(existing, event.source_version):
        return
    await session.execute(
        sa.update(_table)
        .where(_table.c.professional_id == event.professional_id)
        .values(removed=True, source_version=event.source_version)
    )


async def change_read_ahead(
    session: AsyncSession, event: ProfessionalStatusChanged | ProfessionalRemoved
) -> None:
    """Record a status change or removal read ahead of the in-order group (see above)."""
    existing = await _current(session, event.professional_id)
    if existing is not None and not _is_newer(event.source_version, existing):
        return  # the in-order group applied it (or something newer) already
    await session.execute(
        sa.insert(registry_changes_ahead).values(
            professional_id=event.professional_id,
            source_version=event.source_version,
            event={"type": event.event_type, "data": event.model_dump(mode="json")},
        )
    )


async def _forget_changes_ahead(
    session: AsyncSession, professional_id: str, version: datetime
) -> None:
    """The in-order group reached `version`: what was read ahead up to it is in the facts."""
    recorded = (
        await session.execute(
            sa.select(registry_changes_ahead.c.id, registry_changes_ahead.c.source_version).where(
                registry_changes_ahead.c.professional_id == professional_id
            )
        )
    ).all()
    # Compared here, not in SQL: SQLite keeps these times as text.
    done = [row.id for row in recorded if as_utc(row.source_version) <= as_utc(version)]
    if done:
        await session.execute(
            sa.delete(registry_changes_ahead).where(registry_changes_ahead.c.id.in_(done))
        )


def _is_newer(version: datetime, existing: Any) -> bool:
    return as_utc(version) > as_utc(existing.source_version)


async def _with_changes_ahead(session: AsyncSession, row: Any) -> dict[str, Any]:
    """The stored facts with the changes read ahead of them replayed, oldest first."""
    values = _values(row)
    recorded = (
        await session.execute(
            sa.select(registry_changes_ahead.c.source_version, registry_changes_ahead.c.event)
            .where(registry_changes_ahead.c.professional_id == row.professional_id)
            .order_by(registry_changes_ahead.c.id)
        )
    ).all()
    ahead = [r for r in recorded if _is_newer(r.source_version, row)]
    # By version (compared here: SQLite keeps the times as text); equal versions in the
    # order they were read (the rows come in id order and the sort is stable).
    for change in sorted(ahead, key=lambda r: as_utc(r.source_version)):
        if change.event["type"] == ProfessionalRemoved.event_type:
            values = {**values, "removed": True, "source_version": change.source_version}
        else:
            event = ProfessionalStatusChanged.model_validate(change.event["data"])
            values = _after_status_change(values, event)
    return values


async def facts_for(session: AsyncSession, nrn_hash: str) -> ProfessionalFacts | None:
    """What the view knows of the person with this keyed hash; None when unknown."""
    row = (
        await session.execute(
            sa.select(_table)
            .join(
                registry_identities,
                registry_identities.c.professional_id == _table.c.professional_id,
            )
            .where(registry_identities.c.nrn_hash == nrn_hash)
        )
    ).first()
    return await _facts(session, row)


async def facts_of(session: AsyncSession, professional_id: str) -> ProfessionalFacts | None:
    """What the view knows of the person with this `professional_id`; None when unknown."""
    return await _facts(session, await _current(session, professional_id))


async def _facts(session: AsyncSession, row: Any) -> ProfessionalFacts | None:
    if row is None:
        return None
    values = await _with_changes_ahead(session, row)
    return ProfessionalFacts(
        professional_id=row.professional_id,
        professions=tuple(ProfessionRecord.model_validate(p) for p in values["professions"]),
        practice_ban=values["practice_ban"],
        deceased=values["deceased"],
        removed=values["removed"],
    )
