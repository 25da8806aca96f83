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
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.fiches import (
    DepublicationReason,
    OfferUnlinked,
    OfferUnlinkReason,
    PracticeDepublicationReason,
    PracticeFicheDepublished,
    RequestDecided,
    RequestDecision,
    RequestKind,
    RequestSubmitted,
)
from fiches.adapters import known_users
from fiches.adapters import practice_store as store
from fiches.adapters.provider_repository import ProviderFicheRepository
from fiches.adapters.tables import fiche_requests, practice_fiches, practice_offers
from fiches.domain.practice_fiche import PracticeChanges
from fiches.handlers.errors import Conflict, Forbidden, Invalid, NotFound
from fiches.handlers.practices import (
    PRACTICE,
    PracticeCommands,
    link_offers,
    load_practice,
    may_offer,
    own_provider,
    require_manager,
)
from fiches.handlers.providers import PROVIDER, load_provider
from fiches.handlers.unit_of_work import UnitOfWork
from servicekit.auth import Caller
from servicekit.database import as_utc

OPEN = "open"
#: Kinds that the practice's managers may decide (the team may decide every kind).
MANAGER_DECIDES = frozenset({RequestKind.LINK, RequestKind.PROPOSAL})


async def request_views(session: AsyncSession, rows: Any) -> list[dict[str, Any]]:
    """Requests as listed, with the names of who asked and who decided (from fiches'
    directory of known users; None for a user it does not know). Never an address."""
    found = list(rows)
    names = await known_users.names(
        session,
        [r.requester_user_id for r in found] + [r.decided_by for r in found if r.decided_by],
    )
    return [
        {
            **request_view(r),
            "requester_name": names.get(r.requester_user_id),
            "decided_by_name": names.get(r.decided_by) if r.decided_by else None,
        }
        for r in found
    ]


def request_view(row: Any) -> dict[str, Any]:
    return {
        "request_id": row.request_id,
        "kind": row.kind,
        "status": row.status,
        "fiche_type": row.fiche_type,
        "fiche_id": row.fiche_id,
        "fiche_name": row.fiche_name,
        "requester_user_id": row.requester_user_id,
        "payload": row.payload,
        "created_at": as_utc(row.created_at),
        "decided_at": as_utc(row.decided_at),
        "decided_by": row.decided_by,
        "comment": row.comment,
    }


class RequestCommands:
    """Submitting, listing and deciding requests."""

    def __init__(self, uow: UnitOfWork, practices: PracticeCommands) -> None:
        self._uow = uow
        self._outbox = uow.outbox
        self._practices = practices

    async def _submit(
        self,
        session: AsyncSession,
        caller: Caller,
        kind: RequestKind,
        fiche_type: str,
        fiche_id: str,
        fiche_name: str,
        payload: dict[str, Any],
    ) -> str:
        request_id = str(uuid.uuid4())
        now = store.utcnow()
        await session.execute(
            sa.insert(fiche_requests).values(
                request_id=request_id,
                kind=kind.value,
                status=OPEN,
                fiche_type=fiche_type,
                fiche_id=fiche_id,
                fiche_name=fiche_name,
                requester_user_id=caller.user_id,
                payload=payload,
                created_at=now,
            )
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

    async def _open_duplicate(
        self, session: AsyncSession, kind: RequestKind, fiche_id: str, user_id: str
    ) -> None:
        found = await session.scalar(
            sa.select(fiche_requests.c.request_id).where(
                fiche_requests.c.kind == kind.value,
                fiche_requests.c.fiche_id == fiche_id,
                fiche_requests.c.requester_user_id == user_id,
                fiche_requests.c.status == OPEN,
            )
        )
        if found:
            raise Conflict(
                f"you already have an open {kind.value} request on this fiche: {found}; "
                "wait for its decision (GET /api/fiches/me/requests) instead of asking again"
            )

    async def ask_link(self, caller: Caller, practice_id: str, professions: list[str]) -> str:
        if not professions:
            raise Invalid("name at least one profession to link", ("body", "professions"))
        may_offer(caller, professions, "professions")
        async with self._uow.write() as session:
            row = await load_practice(session, practice_id)
            provider = await own_provider(session, caller)
            linked = {
                o.profession
                for o in await store.offers(session, practice_id)
                if o.professional_id == provider.professional_id and o.in_draft
            }
            if set(professions) <= linked:
                raise Conflict("your offer is already linked to this practice")
            if await store.is_manager(session, practice_id, caller.user_id):
                raise Conflict(
                    "you manage this practice fiche: link your offer directly (POST "
                    f"/api/fiches/practices/{practice_id}/offers)"
                )
            await self._open_duplicate(session, RequestKind.LINK, practice_id, caller.user_id)
            return await self._submit(
                session,
                caller,
                RequestKind.LINK,
                PRACTICE,
                practice_id,
                row.name,
                {
                    "professional_id": provider.professional_id,
                    "provider_fiche_id": provider.fiche_id,
                    "professions": sorted(set(professions) - linked),
                },
            )

    async def ask_rights(self, caller: Caller, practice_id: str, motivation: str | None) -> str:
        async with self._uow.write() as session:
            row = await load_practice(session, practice_id)
            if await store.is_manager(session, practice_id, caller.user_id):
                raise Conflict("you already manage this practice fiche")
            await self._open_duplicate(session, RequestKind.RIGHTS, practice_id, caller.user_id)
            return await self._submit(
                session,
                caller,
                RequestKind.RIGHTS,
                PRACTICE,
                practice_id,
                row.name,
                {"motivation": motivation},
            )

    async def propose(self, caller: Caller, practice_id: str, changes: dict[str, Any]) -> str:
        if not changes:
            raise Invalid("propose at least one changed field", ("body", "changes"))
        async with self._uow.write() as session:
            row = await load_practice(session, practice_id)
            return await self._submit(
                session,
                caller,
                RequestKind.PROPOSAL,
                PRACTICE,
                practice_id,
                row.name,
                {"changes": changes},
            )

    async def ask_removal(self, caller: Caller, fiche_type: str, fiche_id: str, reason: str) -> str:
        async with self._uow.write() as session:
            if fiche_type == PRACTICE:
                name = (await load_practice(session, fiche_id)).name
            else:
                provider = await load_provider(session, fiche_id)
                name = f"{provider.official_first_name} {provider.official_last_name}"
            await self._open_duplicate(session, RequestKind.REMOVAL, fiche_id, caller.user_id)
            return await self._submit(
                session,
                caller,
                RequestKind.REMOVAL,
                fiche_type,
                fiche_id,
                name,
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
            return await self._submit(
                session,
                caller,
                RequestKind.SOURCE_ERROR,
                PROVIDER,
                fiche_id,
                f"{provider.official_first_name} {provider.official_last_name}",
                {"description": description},
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
        conditions: list[Any] = []
        if kind is not None:
            conditions.append(fiche_requests.c.kind == kind.value)
        if status is not None:
            conditions.append(fiche_requests.c.status == status)
        if fiche_id is not None:
            conditions.append(fiche_requests.c.fiche_id == fiche_id)
        async with self._uow.read() as session:
            total = await session.scalar(
                sa.select(sa.func.count()).select_from(fiche_requests).where(*conditions)
            )
            rows = await session.execute(
                sa.select(fiche_requests)
                .where(*conditions)
                .order_by(fiche_requests.c.created_at, fiche_requests.c.request_id)
                .limit(limit)
                .offset(offset)
            )
            items = await request_views(session, rows)
        return {"items": items, "total": total or 0, "limit": limit, "offset": offset}

    async def of_practice(self, caller: Caller, practice_id: str) -> list[dict[str, Any]]:
        """Open link requests and proposals on a practice, for its managers."""
        async with self._uow.read() as session:
            row = await load_practice(session, practice_id, lock=False)
            await require_manager(session, row, caller)
            rows = await session.execute(
                sa.select(fiche_requests)
                .where(
                    fiche_requests.c.fiche_id == practice_id,
                    fiche_requests.c.status == OPEN,
                    fiche_requests.c.kind.in_([k.value for k in MANAGER_DECIDES]),
                )
                .order_by(fiche_requests.c.created_at)
            )
            return await request_views(session, rows)

    async def mine(self, caller: Caller) -> list[dict[str, Any]]:
        async with self._uow.read() as session:
            rows = await session.execute(
                sa.select(fiche_requests)
                .where(fiche_requests.c.requester_user_id == caller.user_id)
                .order_by(fiche_requests.c.created_at)
            )
            return await request_views(session, rows)

    # --- deciding ----------------------------------------------------------------------

    async def decide(
        self, caller: Caller, request_id: str, decision: RequestDecision, comment: str | None
    ) -> dict[str, Any]:
        now = store.utcnow()
        async with self._uow.write() as session:
            row = (
                await session.execute(
                    sa.select(fiche_requests)
                    .where(fiche_requests.c.request_id == request_id)
                    .with_for_update()
                )
            ).first()
            if row is None:
                raise NotFound(f"no request with id {request_id}")
            kind = RequestKind(row.kind)
            if not caller.is_team:
                if kind not in MANAGER_DECIDES:
                    raise Forbidden(f"only the editorial team decides {kind.value} requests")
                practice = await load_practice(session, row.fiche_id)
                if not await store.is_manager(session, practice.practice_id, caller.user_id):
                    raise Forbidden(
                        "only the managers of this practice fiche or the editorial team "
                        "decide this request"
                    )
            if row.status != OPEN:
                raise Conflict(f"this request was already decided ({row.status})")
            if decision is RequestDecision.APPROVED:
                await self._apply(session, caller, row, kind, now)
            await session.execute(
                sa.update(fiche_requests)
                .where(fiche_requests.c.request_id == request_id)
                .values(
                    status=decision.value,
                    decided_at=now,
                    decided_by=caller.user_id,
                    comment=comment,
                )
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
            updated = (
                await session.execute(
                    sa.select(fiche_requests).where(fiche_requests.c.request_id == request_id)
                )
            ).one()
            (view,) = await request_views(session, [updated])
            return view

    async def _apply(
        self, session: AsyncSession, caller: Caller, row: Any, kind: RequestKind, now: Any
    ) -> None:
        payload = dict(row.payload)
        if kind is RequestKind.LINK:
            practice = await load_practice(session, row.fiche_id)
            provider = await load_provider(session, payload["provider_fiche_id"])
            # Approved by a manager or the team: the link is published at once (only
            # this offer; other unpublished edits of the practice stay unpublished).
            await link_offers(
                session,
                self._outbox,
                practice_id=practice.practice_id,
                provider=provider,
                professions=payload["professions"],
                user_id=caller.user_id,
                action=f"link_request:{row.request_id}",
                now=now,
                publish=True,
            )
        elif kind is RequestKind.RIGHTS:
            practice = await load_practice(session, row.fiche_id)
            if not await store.is_manager(session, practice.practice_id, row.requester_user_id):
                await self._practices.add_manager(
                    session, practice, row.requester_user_id, caller.user_id, now
                )
        elif kind is RequestKind.PROPOSAL:
            practice = await load_practice(session, row.fiche_id)
            try:
                await self._practices.apply_changes(
                    session,
                    practice,
                    payload["changes"],
                    caller.user_id,
                    f"proposal:{row.request_id}",
                )
            except ValidationError as error:
                raise Conflict(
                    "the proposal no longer fits the edit version "
                    f"({error.error_count()} problems); decline it and ask for a new one"
                ) from error
        elif kind is RequestKind.REMOVAL:
            if row.fiche_type == PRACTICE:
                await self._remove_practice(session, row.fiche_id, caller.user_id, now)
            else:
                await self._remove_provider(session, row.fiche_id, now)
        # source_error: nothing changes here; the team follows it up with the source.

    async def _remove_practice(
        self, session: AsyncSession, practice_id: str, user_id: str, now: Any
    ) -> None:
        practice = await load_practice(session, practice_id)
        events: list[Any] = []
        if practice.published:
            events.append(
                PracticeFicheDepublished(
                    practice_id=practice_id,
                    reason=PracticeDepublicationReason.REMOVAL_REQUEST,
                    occurred_at=now,
                )
            )
            for offer in await store.offers(session, practice_id):
                if offer.in_published:
                    events.append(
                        OfferUnlinked(
                            practice_id=practice_id,
                            provider_fiche_id=offer.provider_fiche_id,
                            professional_id=offer.professional_id,
                            profession=offer.profession,
                            reason=OfferUnlinkReason.PRACTICE_REMOVED,
                            occurred_at=now,
                        )
                    )
        await session.execute(
            sa.update(practice_offers)
            .where(practice_offers.c.practice_id == practice_id)
            .values(in_published=False)
        )
        await session.execute(
            sa.update(practice_fiches)
            .where(practice_fiches.c.practice_id == practice_id)
            .values(published=False, removed=True, published_search_name=None, updated_at=now)
        )
        await store.add_history(
            session,
            fiche_type=PRACTICE,
            fiche_id=practice_id,
            action="removed",
            user_id=user_id,
            changed=["published"],
            snapshot=practice.draft,
        )
        await self._outbox.add_all(session, events)

    async def _remove_provider(self, session: AsyncSession, fiche_id: str, now: Any) -> None:
        provider = await load_provider(session, fiche_id)
        repository = ProviderFicheRepository(session, self._outbox)
        fiche = await repository.by_professional(provider.professional_id)
        assert fiche is not None
        fiche.depublish(DepublicationReason.REMOVAL_REQUEST, now=now)
        repository.save(fiche)
        await repository.flush()


def validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """A proposal's changes, validated field by field like a save (ValidationError else)."""
    return PracticeChanges.model_validate(changes).model_dump(mode="json", exclude_unset=True)
