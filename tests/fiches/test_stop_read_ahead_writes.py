"""A stop read ahead writes the publication only: a thousand stops at once rebuild no row,
and the facts stay exactly as the in-order group last wrote them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from contracts.events.registry import ProfessionalStatusChanged, StatusChangeReason
from fiches.adapters.provider_repository import ProviderFicheRepository
from fiches.adapters.tables import provider_fiches
from fiches.handlers.registry_events import RegistryEventHandlers
from tests.fiches.conftest import FichesUnderTest


async def test_a_stop_read_ahead_writes_only_may_practise_and_the_publication(
    fiches: FichesUnderTest,
) -> None:
    ann = await fiches.professional("ann", ("physician",), last="Peeters")
    assert ann.professional_id is not None
    death = ProfessionalStatusChanged(
        professional_id=ann.professional_id,
        reason=StatusChangeReason.DECEASED,
        professions=("physician",),
        active_professions=(),
        may_practise=False,
        source_version=datetime.now(UTC) + timedelta(days=1),
        occurred_at=datetime.now(UTC),
    )
    runtime = fiches.component.runtime
    handlers = RegistryEventHandlers(runtime.outbox)
    async with runtime.sessions() as session, session.begin():
        await handlers.before_batch(session, [death])
        loaded = await ProviderFicheRepository.of(session, runtime.outbox).by_professional(
            ann.professional_id
        )
        assert loaded is not None
        loaded.official_last_name = "Not written"  # the rest of this copy is not written
        await handlers.stop_read_ahead(session, death)
        await handlers.after_batch(session, [death])

    async with runtime.sessions() as session:
        row = (
            await session.execute(
                sa.select(provider_fiches).where(
                    provider_fiches.c.professional_id == ann.professional_id
                )
            )
        ).one()
    assert (row.published, row.may_practise, row.depublication_reason) == (
        False,
        False,
        "deceased",
    )
    assert row.official_last_name == "Peeters"
    assert (await fiches.event_types())[-1] == "ProviderFicheDepublished"
