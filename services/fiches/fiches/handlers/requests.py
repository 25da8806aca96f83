"""Requests users put to managers or the editorial team, and their decisions.

* link (practice): a professional asks for their own offers; managers or the team
  decide; approval links the offers and publishes them.
* rights (practice): anyone logged in who does not manage it; the team decides; the
  requester becomes a manager.
* proposal (practice): anyone logged in; managers or the team decide; the changes are
  applied to the edit version.
* removal (provider or practice): anyone logged in; the team decides; the fiche is
  depublished.
* source_error (provider): the provider themself; the team decides and follows it up
  with the source (nothing changes here).

Every request is announced (`RequestSubmitted`) and every decision too (`RequestDecided`:
notifications mails the requester).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.fiches import (
    DepublicationReason,
    RequestDecided,
    RequestDecision,
    RequestKind,
    RequestSubmitted,
)
from fiches.adapters import practice_store as store
from fiches.adapters.provider_repository import ProviderFicheRepository
from fiches.adapters.request_queries import RequestQueries
from fiches.adapters.request_store import OPEN, RequestStore
from fiches.domain.practice_fiche import PracticeFiche
from fiches.domain.practice_rights import MANAGER_DECIDES
from fiches.handlers.errors import Conflict, Forbidden, Invalid, NotFound
from fiches.handlers.practices import (
    PRACTICE,
    linked_provider,
    load_practice,
    may_offer,
    own_provider,
    require_managed,
    save_practice,
)
from fiches.handlers.providers import PROVIDER, load_provider
from fiches.handlers.unit_of_work import UnitOfWork
from servicekit.auth import Caller


class RequestCommands:
    """Submitting, listing and deciding requests."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._outbox = uow.outbox

    async def _submit(
        self,
        session: AsyncSession,
        caller: Caller,
        kind: RequestKind,
        fiche: tuple[str, str, str],
        payload: dict[str, Any],
        *,
        one_open: bool = True,
    ) -> str:
        """Store an open request on (fiche type, id, name) and announce it; with
        `one_open`, refuse it while the caller has one of this kind open on the fiche."""
        fiche_type, fiche_id, fiche_name = fiche
        requests = RequestStore(session)
        found = (
            await requests.open_request_of(kind.value, fiche_id, caller.user_id)
            if one_open
            else None
        )
        if found:
            raise Conflict(
                f"you already have an open {kind.value} request on this fiche: {found}; "
                "wait for its decision (GET /api/fiches/me/requests) instead of asking again"
            )
        request_id = str(uuid.uuid4())
        now = store.utcnow()
        await requests.add(
            request_id=request_id,
            kind=kind.value,
            fiche_type=fiche_type,
            fiche_id=fiche_id,
            fiche_name=fiche_name,
            requester_user_id=caller.user_id,
            payload=payload,
            created_at=now,
        )
        await self._outbox.add(
            session,
            RequestSubmitted(
                request_id=request_id,
                kind=kind,
                fiche_type=fiche_type,
                fiche_id=fiche_id,
                fiche_name=fiche_name,
                requester_user_id=caller.user_id,
                occurred_at=now,
            ),
        )
        return request_id

    async def ask_link(self, caller: Caller, practice_id: str, professions: list[str]) -> str:
        if not professions:
            raise Invalid("name at least one profession to link", ("body", "professions"))
        may_offer(caller, professions, "professions")
        async with self._uow.write() as session:
            fiche = await load_practice(session, practice_id)
            provider = await own_provider(session, caller)
            linked = fiche.linked_professions(provider.professional_id)
            if set(professions) <= linked:
                raise Conflict("your offer is already linked to this practice")
            if fiche.manages(caller.user_id):
                raise Conflict(
                    "you manage this practice fiche: link your offer directly (POST "
                    f"/api/fiches/practices/{practice_id}/offers)"
                )
            payload = {
                "professional_id": provider.professional_id,
                "provider_fiche_id": provider.fiche_id,
                "professions": sorted(set(professions) - linked),
            }
            return await self._submit(
                session, caller, RequestKind.LINK, (PRACTICE, practice_id, fiche.name), payload
            )

    async def ask_rights(self, caller: Caller, practice_id: str, motivation: str | None) -> str:
        async with self._uow.write() as session:
            fiche = await load_practice(session, practice_id)
            if fiche.manages(caller.user_id):
                raise Conflict("you already manage this practice fiche")
            return await self._submit(
                session,
                caller,
                RequestKind.RIGHTS,
                (PRACTICE, practice_id, fiche.name),
                {"motivation": motivation},
            )

    async def propose(self, caller: Caller, practice_id: str, changes: dict[str, Any]) -> str:
        if not changes:
            raise Invalid("propose at least one changed field", ("body", "changes"))
        async with self._uow.write() as session:
            fiche = await load_practice(session, practice_id)
            return await self._submit(
                session,
                caller,
                RequestKind.PROPOSAL,
                (PRACTICE, practice_id, fiche.name),
                {"changes": changes},
                one_open=False,  # several proposals on one fiche may wait side by side
            )

    async def ask_removal(self, caller: Caller, fiche_type: str, fiche_id: str, reason: str) -> str:
        async with self._uow.write() as session:
            if fiche_type == PRACTICE:
                name = (await load_practice(session, fiche_id)).name
            else:
                provider = await load_provider(session, fiche_id)
                name = f"{provider.official_first_name} {provider.official_last_name}"
            return await self._submit(
                session,
                caller,
                RequestKind.REMOVAL,
                (fiche_type, fiche_id, name),
                {"reason": reason},
            )

    async def report_source_error(self, caller: Caller, fiche_id: str, description: str) -> str:
        async with self._uow.write() as session:
            provider = await load_provider(session, fiche_id)
            if not caller.is_team and caller.professional_id != provider.professional_id:
                raise Forbidden(
                    "only the provider themself reports an error in their authentic data; "
                    "for anything else ask the team (POST /api/fiches/removal-requests)"
                )
            name = f"{provider.official_first_name} {provider.official_last_name}"
            return await self._submit(
                session,
                caller,
                RequestKind.SOURCE_ERROR,
                (PROVIDER, fiche_id, name),
                {"description": description},
                one_open=False,
            )

    # --- reading -----------------------------------------------------------------------

    async def work_queue(
        self,
        caller: Caller,
        *,
        kind: RequestKind | None,
        status: str | None,
        fiche_id: str | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """The team's queue: oldest first, filtered by kind, status and fiche."""
        if not caller.is_team:
            raise Forbidden("the work queue is the editorial team's")
        async with self._uow.read() as session:
            return await RequestQueries(session).work_queue(
                kind=None if kind is None else kind.value,
                status=status,
                fiche_id=fiche_id,
                limit=limit,
                offset=offset,
            )

    async def of_practice(self, caller: Caller, practice_id: str) -> list[dict[str, Any]]:
        """Open link requests and proposals on a practice, for its managers."""
        async with self._uow.read() as session:
            await require_managed(session, practice_id, caller)
            kinds = sorted(k.value for k in MANAGER_DECIDES)
            return await RequestQueries(session).open_on_fiche(practice_id, kinds)

    async def mine(self, caller: Caller) -> list[dict[str, Any]]:
        async with self._uow.read() as session:
            return await RequestQueries(session).of_requester(caller.user_id)

    # --- deciding ----------------------------------------------------------------------

    async def decide(
        self, caller: Caller, request_id: str, decision: RequestDecision, comment: str | None
    ) -> dict[str, Any]:
        now = store.utcnow()
        async with self._uow.write() as session:
            requests = RequestStore(session)
            row = await requests.get_for_decision(request_id)
            if row is None:
                raise NotFound(f"no request with id {request_id}")
            kind = RequestKind(row.kind)
            if not caller.is_team:
                await self._may_decide(session, caller, row, kind)
            if row.status != OPEN:
                raise Conflict(f"this request was already decided ({row.status})")
            if decision is RequestDecision.APPROVED:
                await self._apply(session, caller, row, kind, now)
            updated = await requests.decide(
                request_id, status=decision.value, at=now, by=caller.user_id, comment=comment
            )
            await self._outbox.add(
                session,
                RequestDecided(
                    request_id=request_id,
                    kind=kind,
                    fiche_type=row.fiche_type,
                    fiche_id=row.fiche_id,
                    fiche_name=row.fiche_name,
                    requester_user_id=row.requester_user_id,
                    decision=decision,
                    comment=comment,
                    occurred_at=now,
                ),
            )
            (view,) = await RequestQueries(session).views([updated])
            return view

    async def _may_decide(
        self, session: AsyncSession, caller: Caller, row: Any, kind: RequestKind
    ) -> None:
        """Managers decide link requests and proposals on their practice; nothing else."""
        if kind not in MANAGER_DECIDES:
            raise Forbidden(f"only the editorial team decides {kind.value} requests")
        practice = await load_practice(session, row.fiche_id)
        if not practice.manages(caller.user_id):
            raise Forbidden(
                "only the managers of this practice fiche or the editorial team decide this request"
            )

    async def _apply(
        self, session: AsyncSession, caller: Caller, row: Any, kind: RequestKind, now: datetime
    ) -> None:
        payload = dict(row.payload)
        if kind is RequestKind.REMOVAL and row.fiche_type != PRACTICE:
            await self._remove_provider(session, row.fiche_id, now)
            return
        if kind is RequestKind.SOURCE_ERROR:
            return  # nothing changes here; the team follows it up with the source
        practice = await load_practice(session, row.fiche_id)
        if kind is RequestKind.LINK:
            provider = await load_provider(session, payload["provider_fiche_id"])
            # Approved by a manager or the team: the link is published at once (only
            # this offer; other unpublished edits of the practice stay unpublished).
            practice.link_offers(
                linked_provider(provider),
                payload["professions"],
                user_id=caller.user_id,
                action=f"link_request:{row.request_id}",
                now=now,
                publish=True,
            )
        elif kind is RequestKind.RIGHTS:
            if not practice.manages(row.requester_user_id):
                practice.grant(row.requester_user_id, caller.user_id, now)
        elif kind is RequestKind.PROPOSAL:
            _apply_proposal(practice, payload["changes"], caller.user_id, row.request_id, now)
        elif kind is RequestKind.REMOVAL:
            practice.remove(caller.user_id, now)
        await save_practice(session, self._outbox, practice)

    async def _remove_provider(self, session: AsyncSession, fiche_id: str, now: datetime) -> None:
        provider = await load_provider(session, fiche_id)
        repository = ProviderFicheRepository(session, self._outbox)
        fiche = await repository.by_professional(provider.professional_id)
        assert fiche is not None
        fiche.depublish(DepublicationReason.REMOVAL_REQUEST, now=now)
        repository.save(fiche)
        await repository.flush()


def _apply_proposal(
    practice: PracticeFiche, changes: dict[str, Any], user_id: str, request_id: str, now: datetime
) -> None:
    try:
        practice.apply_changes(changes, user_id, f"proposal:{request_id}", now)
    except ValidationError as error:
        raise Conflict(
            "the proposal no longer fits the edit version "
            f"({error.error_count()} problems); decline it and ask for a new one"
        ) from error
