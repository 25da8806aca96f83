"""Use cases on practice fiches: create, save, publish, offers, history.

Each write loads the `PracticeFiche` through its repository, calls it (the aggregate
checks who may and records the events), saves it and hands its events to the outbox, in
one transaction. Reads go through `PracticeQueries`. Granting and withdrawing rights
lives in `fiches.handlers.managers`, requests in `fiches.handlers.requests`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.registry import ProfessionRecord
from fiches.adapters import practice_store as store
from fiches.adapters.practice_queries import PracticeQueries, history_entry
from fiches.adapters.practice_repository import PracticeFicheRepository
from fiches.domain.practice_fiche import PRACTICE, LinkedProvider, PracticeData, PracticeFiche
from fiches.domain.practice_rights import (
    MANAGER_DECIDES,
    may_offer,
    may_restore,
    require_manager,
)
from fiches.handlers.errors import Conflict, NotFound
from fiches.handlers.unit_of_work import UnitOfWork
from servicekit.auth import Caller
from servicekit.messaging.outbox import Outbox

__all__ = [
    "PRACTICE",
    "PracticeCommands",
    "history_entry",
    "load_practice",
    "may_offer",
    "own_provider",
    "public_professions_of",
    "save_practice",
]


async def load_practice(
    session: AsyncSession, practice_id: str, *, lock: bool = True
) -> PracticeFiche:
    """The practice fiche (locked for the write by default), or NotFound."""
    fiche = await PracticeFicheRepository.of(session).get(practice_id, lock=lock)
    if fiche is None or fiche.removed:
        raise NotFound(f"no practice fiche with id {practice_id}")
    return fiche


async def save_practice(session: AsyncSession, outbox: Outbox, fiche: PracticeFiche) -> None:
    """Store what the fiche changed and queue the events it recorded (same transaction)."""
    await PracticeFicheRepository.of(session).save(fiche)
    await outbox.add_all(session, fiche.take_events())


async def managers_or_not_found(session: AsyncSession, practice_id: str) -> list[str]:
    manager_ids = await PracticeQueries(session).manager_ids(practice_id)
    if manager_ids is None:
        raise NotFound(f"no practice fiche with id {practice_id}")
    return manager_ids


async def require_managed(session: AsyncSession, practice_id: str, caller: Caller) -> list[str]:
    """For reads: the practice exists and the caller manages it (or is the team)."""
    manager_ids = await managers_or_not_found(session, practice_id)
    require_manager(caller, practice_id, manager_ids)
    return manager_ids


def public_professions_of(provider: Any) -> set[str]:
    """Codes of the professions a provider fiche shows (those that may be practised)."""
    records = (ProfessionRecord.model_validate(p) for p in provider.professions)
    return {record.profession for record in records if record.may_practise()}


def linked_provider(provider: Any) -> LinkedProvider:
    return LinkedProvider(
        fiche_id=provider.fiche_id,
        professional_id=provider.professional_id,
        published=bool(provider.published),
    )


async def own_provider(session: AsyncSession, caller: Caller) -> LinkedProvider:
    """The caller's own provider fiche, or Conflict while the source has not reached it."""
    assert caller.professional_id is not None
    provider = await store.provider_by_professional(session, caller.professional_id)
    if provider is None:
        raise Conflict(
            "your provider fiche is not in the directory yet (the authentic source has not "
            "reached it); try again later or contact the editorial team"
        )
    return linked_provider(provider)


class PracticeCommands:
    """What managers, professionals and the team do to practice fiches."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._outbox = uow.outbox

    async def create(
        self, caller: Caller, data: PracticeData, offers: Sequence[str], publish: bool
    ) -> str:
        may_offer(caller, offers)
        now = store.utcnow()
        async with self._uow.write() as session:
            provider = await own_provider(session, caller) if offers else None
            fiche = PracticeFiche.create(str(uuid.uuid4()), data, caller, now)
            if provider is not None:
                fiche.link_offers(
                    provider,
                    offers,
                    user_id=caller.user_id,
                    action="link_own_offer",
                    now=now,
                    publish=False,
                )
            else:
                fiche.announce_managers(now)
            if publish:
                fiche.publish(caller, now)
            await save_practice(session, self._outbox, fiche)
        return fiche.practice_id

    async def edit_view(self, caller: Caller, practice_id: str) -> dict[str, Any]:
        async with self._uow.read() as session:
            manager_ids = await require_managed(session, practice_id, caller)
            return await PracticeQueries(session).edit_view(practice_id, manager_ids)

    async def public_view(self, practice_id: str) -> dict[str, Any]:
        """A published practice fiche as the public sees it, or NotFound."""
        async with self._uow.read() as session:
            found = await PracticeQueries(session).public_practice(practice_id)
        if found is None:
            raise NotFound(f"no published practice fiche with id {practice_id}")
        return found

    async def save(
        self, caller: Caller, practice_id: str, data: PracticeData, publish: bool
    ) -> list[str]:
        """Save the edit version (and publish it when asked); the changed field names."""
        now = store.utcnow()
        async with self._uow.write() as session:
            fiche = await load_practice(session, practice_id)
            changed = fiche.save(caller, data, now)
            if publish:
                fiche.publish_as(caller.user_id, now)
            await save_practice(session, self._outbox, fiche)
        return changed

    async def publish(self, caller: Caller, practice_id: str) -> list[str]:
        async with self._uow.write() as session:
            fiche = await load_practice(session, practice_id)
            changed = fiche.publish(caller, store.utcnow())
            await save_practice(session, self._outbox, fiche)
            return changed

    async def add_own_offers(
        self, caller: Caller, practice_id: str, professions: Sequence[str], publish: bool
    ) -> list[str]:
        """A manager who is a professional ticks their own offer(s) on the practice."""
        now = store.utcnow()
        async with self._uow.write() as session:
            fiche = await load_practice(session, practice_id)
            fiche.check_own_offers(caller, professions)
            provider = await own_provider(session, caller)
            linked = fiche.link_offers(
                provider,
                professions,
                user_id=caller.user_id,
                action="link_own_offer",
                now=now,
                publish=publish,
            )
            await save_practice(session, self._outbox, fiche)
            return linked

    async def remove_offer(
        self,
        caller: Caller,
        practice_id: str,
        professional_id: str,
        profession: str,
        publish: bool,
    ) -> None:
        """A manager (or the team) takes an offer off the practice's offer block."""
        async with self._uow.write() as session:
            fiche = await load_practice(session, practice_id)
            fiche.remove_offer(caller, professional_id, profession, store.utcnow(), publish)
            await save_practice(session, self._outbox, fiche)

    async def unlink(
        self,
        session: AsyncSession,
        fiche: PracticeFiche,
        professional_id: str,
        profession: str,
        user_id: str,
        now: datetime,
        publish: bool,
    ) -> None:
        """Take a provider's offer off (the caller checked who may), in its transaction."""
        fiche.unlink(professional_id, profession, user_id, now, publish)
        await save_practice(session, self._outbox, fiche)

    async def managed_by(self, caller: Caller) -> list[dict[str, Any]]:
        """The practice fiches the caller manages (any logged-in user: practice staff
        log in as citizens), by name, with whether each is online, has unsaved work, and
        how many requests wait for its managers' decision."""
        async with self._uow.read() as session:
            return await PracticeQueries(session).managed_by(
                caller.user_id, sorted(kind.value for kind in MANAGER_DECIDES)
            )

    async def history(self, caller: Caller, practice_id: str) -> list[dict[str, Any]]:
        async with self._uow.read() as session:
            await require_managed(session, practice_id, caller)
            return await PracticeQueries(session).history(practice_id)

    async def restore(self, caller: Caller, practice_id: str, version: int) -> list[str]:
        """The team puts an earlier version back into the edit version (not published)."""
        may_restore(caller)
        async with self._uow.write() as session:
            fiche = await load_practice(session, practice_id)
            snapshot = await PracticeFicheRepository.of(session).history_snapshot(
                practice_id, version
            )
            changed = fiche.restore(caller, version, snapshot, store.utcnow())
            await save_practice(session, self._outbox, fiche)
            return changed
