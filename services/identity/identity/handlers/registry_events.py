"""identity's eligibility view, kept from registry-sync's events.

`registry.identities.v1` pairs a keyed national-register hash with a `professional_id`;
`registry.professionals.v1` says what that person may practise. Both are applied in the
consumer's batch transaction; an event older than the facts held is ignored. Which
topic goes to which handler is declared in `entrypoints/kafka.py`.
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
from identity.adapters.tables import registry_identities, registry_professionals
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
    if _is_older(existing, event.source_version):
        return
    professions = [ProfessionRecord.model_validate(p) for p in existing.professions]
    concerned = set(event.professions)
    active = set(event.active_professions)
    practice_ban, deceased = bool(existing.practice_ban), bool(existing.deceased)
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
    await _write(
        session,
        event.professional_id,
        {
            "professions": [p.model_dump(mode="json") for p in updated],
            "practice_ban": practice_ban,
            "deceased": deceased,
            "removed": bool(existing.removed),
            "source_version": event.source_version,
        },
    )


async def professional_removed(session: AsyncSession, event: ProfessionalRemoved) -> None:
    """A person left the source: no professional login until they reappear."""
    existing = await _current(session, event.professional_id)
    if existing is None or _is_older(existing, event.source_version):
        return
    await session.execute(
        sa.update(_table)
        .where(_table.c.professional_id == event.professional_id)
        .values(removed=True, source_version=event.source_version)
    )


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
    return _facts(row)


async def facts_of(session: AsyncSession, professional_id: str) -> ProfessionalFacts | None:
    """What the view knows of the person with this `professional_id`; None when unknown."""
    return _facts(await _current(session, professional_id))


def _facts(row: Any) -> ProfessionalFacts | None:
    if row is None:
        return None
    return ProfessionalFacts(
        professional_id=row.professional_id,
        professions=tuple(ProfessionRecord.model_validate(p) for p in row.professions),
        practice_ban=bool(row.practice_ban),
        deceased=bool(row.deceased),
        removed=bool(row.removed),
    )
