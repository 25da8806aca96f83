"""Use cases driven by registry-sync's events: keep provider fiches in step with the source."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import Event
from contracts.events.registry import (
    ProfessionalRegistered,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
)
from fiches.adapters.provider_repository import ProviderFicheRepository
from fiches.domain.provider_fiche import ProviderFiche
from servicekit.messaging.outbox import Outbox


class RegistryEventHandlers:
    """One method per registry event; all run inside the consumer's batch transaction."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    def _repository(self, session: AsyncSession) -> ProviderFicheRepository:
        return ProviderFicheRepository.of(session, self._outbox)

    async def before_batch(self, session: AsyncSession, events: Sequence[Event]) -> None:
        """Load every fiche the batch touches in one query."""
        ids = {getattr(event, "professional_id", "") for event in events}
        await self._repository(session).prefetch(ids - {""})

    async def after_batch(self, session: AsyncSession, events: Sequence[Event]) -> None:
        """Write the batch's fiches and events."""
        await self._repository(session).flush()

    async def professional_registered(
        self, session: AsyncSession, event: ProfessionalRegistered
    ) -> None:
        """Create the provider fiche, published if the person may practise."""
        repository = self._repository(session)
        existing = await repository.by_professional(event.professional_id)
        if existing is not None:
            # Registered again (the source state was rebuilt): the facts are an update.
            existing.apply_update(ProfessionalUpdated(**event.model_dump()))
            repository.save(existing)
            return
        repository.add(ProviderFiche.register(event))

    async def professional_updated(self, session: AsyncSession, event: ProfessionalUpdated) -> None:
        """Refresh the authentic fields."""
        repository = self._repository(session)
        fiche = await repository.by_professional(event.professional_id)
        if fiche is None:
            # The registration is older than the topic's retention: register from the facts.
            repository.add(ProviderFiche.register(ProfessionalRegistered(**event.model_dump())))
            return
        fiche.apply_update(event)
        repository.save(fiche)

    async def professional_status_changed(
        self, session: AsyncSession, event: ProfessionalStatusChanged
    ) -> None:
        """Depublish on a stop; record a reactivation without republishing."""
        repository = self._repository(session)
        fiche = await repository.by_professional(event.professional_id)
        if fiche is None:
            raise LookupError(
                f"status change for unknown professional {event.professional_id}: "
                "its registration never reached fiches"
            )
        fiche.apply_status_change(event)
        repository.save(fiche)

    async def professional_removed(self, session: AsyncSession, event: ProfessionalRemoved) -> None:
        """Depublish a provider who left the source."""
        repository = self._repository(session)
        fiche = await repository.by_professional(event.professional_id)
        if fiche is None:
            return  # never had a fiche here: nothing to take down
        fiche.apply_removal(event)
        repository.save(fiche)

    async def stop_read_ahead(
        self, session: AsyncSession, event: ProfessionalStatusChanged | ProfessionalRemoved
    ) -> None:
        """A stop taken off the map ahead of the registry events queued before it.

        The registrations of a national import can queue for a minute in front of a status
        change; this lane reads past them. A person without a fiche yet is left to the
        in-order lane, which will register and then stop them in turn.
        """
        repository = self._repository(session)
        fiche = await repository.by_professional(event.professional_id)
        if fiche is None:
            return
        if fiche.stop_ahead_of_turn(event):
            repository.save_publication(fiche)
