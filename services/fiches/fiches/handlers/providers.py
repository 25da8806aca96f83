"""Use cases of a provider on their own fiche: own fields, publishing, stopping at a practice.

The authentic-source part of the fiche changes only through registry events; an edit of
it is refused with the way to report an error in the source. The provider's own fields
(name they go by, contact data, languages, description) are saved to the edit version
and become public when published. Only the provider themself (their token's
professional id is the fiche's) or the editorial team may write.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.fiches import PublicProfession
from contracts.events.registry import ProfessionRecord
from fiches.adapters import practice_store as store
from fiches.adapters.map_status_query import MapStatusFacts, map_status_facts
from fiches.adapters.provider_repository import ProviderFicheRepository
from fiches.domain.contact_data import changed_fields
from fiches.domain.practice_fiche import preferred_name
from fiches.domain.provider_fiche import ProviderFiche, PublicationRefused
from fiches.domain.provider_own import ProviderOwnData
from fiches.handlers.errors import Conflict, Forbidden, Invalid, NotFound
from fiches.handlers.practices import PracticeCommands, history_entry, load_practice
from fiches.handlers.unit_of_work import UnitOfWork
from servicekit.auth import Caller

PROVIDER = "provider"


def _owns(caller: Caller, row: Any) -> bool:
    return caller.professional_id is not None and caller.professional_id == row.professional_id


async def load_provider(session: AsyncSession, fiche_id: str, *, lock: bool = True) -> Any:
    row = await store.provider(session, fiche_id, lock=lock)
    if row is None:
        raise NotFound(f"no provider fiche with id {fiche_id}")
    return row


def require_owner_or_team(caller: Caller, row: Any) -> None:
    if caller.is_team or _owns(caller, row):
        return
    raise Forbidden(
        "only the provider themself or the editorial team may change a provider fiche. "
        "Think it is wrong? Ask the team to remove it (POST /api/fiches/removal-requests)"
    )


def public_professions(row: Any) -> list[PublicProfession]:
    records = [ProfessionRecord.model_validate(p) for p in row.professions]
    return [
        PublicProfession(**p.model_dump(include=set(PublicProfession.model_fields)))
        for p in records
        if p.may_practise()
    ]


class ProviderCommands:
    """What a provider (or the team) does to a provider fiche."""

    def __init__(self, uow: UnitOfWork, practices: PracticeCommands) -> None:
        self._uow = uow
        self._practices = practices

    async def edit_view(self, caller: Caller, fiche_id: str) -> dict[str, Any]:
        async with self._uow.read() as session:
            row = await load_provider(session, fiche_id, lock=False)
            require_owner_or_team(caller, row)
            offers = await store.offers_of_professional(session, row.professional_id)
            return {
                "fiche_id": row.fiche_id,
                "professional_id": row.professional_id,
                "authentic": {
                    "official_last_name": row.official_last_name,
                    "official_first_name": row.official_first_name,
                    "professions": [p.model_dump(mode="json") for p in public_professions(row)],
                    "may_practise": row.may_practise,
                },
                "own_edit_version": row.own_draft or ProviderOwnData().model_dump(mode="json"),
                "own_published_version": row.own_published,
                "published": row.published,
                "depublication_reason": row.depublication_reason,
                "offers": [
                    {
                        "practice_id": o.practice_id,
                        "profession": o.profession,
                        "in_edit_version": o.in_draft,
                        "in_published_version": o.in_published,
                    }
                    for o in offers
                ],
            }

    async def save_own(
        self, caller: Caller, fiche_id: str, data: ProviderOwnData, publish: bool
    ) -> list[str]:
        own = data.model_dump(mode="json")
        async with self._uow.write() as session:
            repository, fiche = await self._load_for_writing(session, caller, fiche_id)
            changed = fiche.save_own(own)
            if changed:
                await store.add_history(
                    session,
                    fiche_type=PROVIDER,
                    fiche_id=fiche_id,
                    action="save",
                    user_id=caller.user_id,
                    changed=changed,
                    snapshot=own,
                )
            if publish:
                await self._publish(session, caller, fiche)
            if changed or publish:
                repository.save(fiche)
                await repository.flush()
        return changed

    async def publish(self, caller: Caller, fiche_id: str) -> None:
        async with self._uow.write() as session:
            repository, fiche = await self._load_for_writing(session, caller, fiche_id)
            await self._publish(session, caller, fiche)
            repository.save(fiche)
            await repository.flush()

    async def _load_for_writing(
        self, session: AsyncSession, caller: Caller, fiche_id: str
    ) -> tuple[ProviderFicheRepository, ProviderFiche]:
        repository = ProviderFicheRepository(session, self._uow.outbox)
        fiche = await repository.by_fiche_id(fiche_id)
        if fiche is None:
            raise NotFound(f"no provider fiche with id {fiche_id}")
        require_owner_or_team(caller, fiche)
        return repository, fiche

    async def _publish(self, session: AsyncSession, caller: Caller, fiche: ProviderFiche) -> None:
        own = fiche.own_draft or ProviderOwnData().model_dump(mode="json")
        previous = fiche.own_published
        try:
            fiche.publish_own(own, by_team=caller.is_team)
        except PublicationRefused as error:
            raise Conflict(str(error)) from error
        await store.add_history(
            session,
            fiche_type=PROVIDER,
            fiche_id=fiche.fiche_id,
            action="publish",
            user_id=caller.user_id,
            changed=changed_fields(previous, own),
            snapshot=own,
        )

    async def stop_at_practice(
        self,
        caller: Caller,
        fiche_id: str,
        practice_id: str,
        profession: str,
        *,
        confirm: bool,
        publish: bool,
    ) -> None:
        """Flow 4: the provider deletes their offer at a practice, confirms, publishes."""
        if not confirm:
            raise Invalid(
                "confirm that you stop offering this at the practice: repeat the request "
                "with confirm=true",
                ("query", "confirm"),
            )
        now = store.utcnow()
        async with self._uow.write() as session:
            row = await load_provider(session, fiche_id)
            require_owner_or_team(caller, row)
            practice = await load_practice(session, practice_id)
            await self._practices.unlink(
                session, practice, row.professional_id, profession, caller.user_id, now, publish
            )

    async def history(self, caller: Caller, fiche_id: str) -> list[dict[str, Any]]:
        async with self._uow.read() as session:
            row = await load_provider(session, fiche_id, lock=False)
            require_owner_or_team(caller, row)
            return [history_entry(h) for h in await store.history(session, PROVIDER, fiche_id)]

    async def restore(self, caller: Caller, fiche_id: str, version: int) -> list[str]:
        if not caller.is_team:
            raise Forbidden("only the editorial team restores earlier versions")
        async with self._uow.write() as session:
            repository = ProviderFicheRepository(session, self._uow.outbox)
            fiche = await repository.by_fiche_id(fiche_id)
            if fiche is None:
                raise NotFound(f"no provider fiche with id {fiche_id}")
            old = await store.history_version(session, PROVIDER, fiche_id, version)
            if old is None:
                raise NotFound(f"provider fiche {fiche_id} has no version {version}")
            own = dict(old.snapshot)
            changed = fiche.restore_own(own)
            repository.save(fiche)
            await repository.flush()
            await store.add_history(
                session,
                fiche_type=PROVIDER,
                fiche_id=fiche_id,
                action=f"restore:{version}",
                user_id=caller.user_id,
                changed=changed,
                snapshot=own,
            )
            return changed

    async def map_status(self, caller: Caller, practice_names: list[str]) -> dict[str, Any]:
        """Flow 2, "am I on the map?": my fiche, and per practice ready / almost ready / create.

        * ready: the practice fiche exists and my offer is linked (published);
        * almost_ready: the practice fiche exists but my offer is not (yet) linked;
        * create: no practice fiche by that name: create it.
        """
        if not caller.is_professional:
            raise Forbidden("only a healthcare professional has a place on the map")
        assert caller.professional_id is not None
        async with self._uow.read() as session:
            facts = await map_status_facts(
                session,
                user_id=caller.user_id,
                professional_id=caller.professional_id,
                practice_names=practice_names,
            )
        row, by_name = facts.provider, facts.by_name
        practices = {p.practice_id: _practice_status(p, facts) for p in facts.practices}
        checked = [
            {
                "practice_name": name,
                "situation": "create",
                "next_step": "create the practice fiche and tick your offer: POST "
                "/api/fiches/practices",
            }
            for name, found in by_name.items()
            if not found
        ]
        return {
            "provider_fiche": None
            if row is None
            else {
                "fiche_id": row.fiche_id,
                "published": row.published,
                "depublication_reason": row.depublication_reason,
                "may_practise": row.may_practise,
                "unpublished_changes": (row.own_draft or None) != (row.own_published or None),
            },
            "practices": sorted(practices.values(), key=lambda p: p["name"].lower()),
            "to_create": checked,
            "create_practice": "POST /api/fiches/practices" if not practices else None,
        }


def _practice_status(practice: Any, facts: MapStatusFacts) -> dict[str, Any]:
    """Where my offer stands at one practice, and what to do next."""
    mine = [o for o in facts.offers if o.practice_id == practice.practice_id]
    live = sorted(o.profession for o in mine if o.in_published and practice.published)
    return {
        "practice_id": practice.practice_id,
        # The published name: this caller need not manage the practice, and
        # unpublished edits are for its managers only.
        "name": preferred_name(practice.published_data) if practice.published else practice.name,
        "situation": "ready" if live else "almost_ready",
        "practice_published": practice.published,
        "linked_professions": live,
        "unpublished_link_changes": sorted(
            o.profession for o in mine if o.in_draft != o.in_published
        ),
        "link_request_open": practice.practice_id in facts.pending_ids,
        "next_step": _next_step(
            practice.practice_id,
            live=bool(live),
            manages=practice.practice_id in facts.managed_ids,
            unpublished_links=any(o.in_draft and not o.in_published for o in mine),
            request_open=practice.practice_id in facts.pending_ids,
        ),
    }


def _next_step(
    practice_id: str, *, live: bool, manages: bool, unpublished_links: bool, request_open: bool
) -> str | None:
    """What to do so that my offer shows on the practice, or None when it does."""
    path = f"/api/fiches/practices/{practice_id}"
    if live:
        return None
    if manages and unpublished_links:
        return f"your offer is linked in the edit version: publish it: POST {path}/publish"
    if manages:
        # A manager links directly; a link request would only wait for themselves.
        return f"you manage this practice: link your offer yourself: POST {path}/offers"
    if request_open:
        return (
            "your link request is waiting for the practice's managers or the team; you "
            "get an e-mail when it is decided"
        )
    return f"ask to link your offer: POST {path}/link-requests"
