"""Registry events about demo people, applied through identity's handlers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts.events.registry import (
    ProfessionalIdentified,
    ProfessionalRegistered,
    ProfessionalStatusChanged,
    ProfessionRecord,
    StatusChangeReason,
)
from identity.config import DEVELOPMENT_NRN_HMAC_KEY
from identity.devidp.people import DEMO_COUNT, DEMO_SEED, DemoPerson
from identity.entrypoints.app import IdentityComponent
from identity.handlers import registry_events
from registry_sync.domain.pseudonyms import NrnHasher as RegistryNrnHasher

VERSION = datetime(2026, 11, 27, 22, tzinfo=UTC)


def demo_record(person: DemoPerson) -> dict[str, Any]:
    from registry_sync.simulator.demo_data import generate_professionals

    assert person.index is not None
    records = list(generate_professionals(DEMO_COUNT, DEMO_SEED))
    return records[person.index]


def registered(professional_id: str, record: dict[str, Any]) -> ProfessionalRegistered:
    professions = tuple(ProfessionRecord.model_validate(p) for p in record["professions"])
    return ProfessionalRegistered(
        professional_id=professional_id,
        last_name=record["last_name"],
        first_name=record["first_name"],
        language=record.get("language"),
        practice_ban=bool(record.get("practice_ban")),
        deceased=bool(record.get("deceased")),
        professions=professions,
        may_practise=any(p.may_practise() for p in professions),
        source_version=VERSION,
    )


async def register(component: IdentityComponent, person: DemoPerson) -> str:
    """Feed the view what registry-sync would publish about `person`; their id."""
    professional_id = f"prof-{uuid.uuid4().hex[:12]}"
    nrn_hash = RegistryNrnHasher(DEVELOPMENT_NRN_HMAC_KEY).hash(person.nrn)
    async with component.runtime.sessions.begin() as session:
        await registry_events.professional_identified(
            session, ProfessionalIdentified(professional_id=professional_id, nrn_hash=nrn_hash)
        )
        await registry_events.professional_facts(
            session, registered(professional_id, demo_record(person))
        )
    return professional_id


async def stop(
    component: IdentityComponent,
    professional_id: str,
    reason: StatusChangeReason,
    *codes: str,
    after_batch: bool = True,
) -> None:
    """A status change as registry-sync publishes it, applied as identity's consumer does:
    the handler, then the batch hook that ends the sessions it no longer backs
    (`after_batch=False` leaves the hook out, as if it had not run yet)."""
    event = ProfessionalStatusChanged(
        professional_id=professional_id,
        reason=reason,
        professions=codes,
        active_professions=(),
        may_practise=False,
        source_version=datetime(2026, 11, 28, 6, tzinfo=UTC),
    )
    async with component.runtime.sessions.begin() as session:
        await registry_events.professional_status_changed(session, event)
        if after_batch:
            await component.use_cases.rights.after_registry_batch(session, [event])
