"""Use cases on practice fiches: create, save, publish, offers, managers, history.

Granting and withdrawing rights by managers lives in `fiches.handlers.managers`.

Every change lands in the edit version and is recorded in the history (who, when, which
fields). Publishing copies the edit version to the published version and tells agencies
(`PracticeFichePublished`/`Updated`, `OfferLinked`/`Unlinked`); until then nothing of an
edit is public. Deny by default: each write checks that the caller manages the fiche
(or is the editorial team) before touching it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import Event
from contracts.events.fiches import (
    OfferLinked,
    OfferUnlinked,
    OfferUnlinkReason,
    PracticeManagersChanged,
)
from contracts.events.registry import ProfessionRecord
from fiches.adapters import known_users
from fiches.adapters import practice_store as store
from fiches.adapters.tables import practice_fiches, practice_managers
from fiches.domain.contact_data import changed_fields
from fiches.domain.practice_fiche import PracticeData, preferred_name, public_event, stored
from fiches.handlers.errors import Conflict, Forbidden, Invalid, NotFound
from fiches.handlers.unit_of_work import UnitOfWork
from servicekit.auth import Caller
from servicekit.database import as_utc
from servicekit.messaging.outbox import Outbox

PRACTICE = "practice"


def not_managing(practice_id: str) -> Forbidden:
    return Forbidden(
        "you do not manage this practice fiche. Propose a change (POST "
        f"/api/fiches/practices/{practice_id}/proposals) or ask for management rights (POST "
        f"/api/fiches/practices/{practice_id}/rights-requests)"
    )


async def load_practice(session: AsyncSession, practice_id: str, *, lock: bool = True) -> Any:
    row = await store.practice(session, practice_id, lock=lock)
    if row is None or row.removed:
        raise NotFound(f"no practice fiche with id {practice_id}")
    return row


async def require_manager(session: AsyncSession, row: Any, caller: Caller) -> None:
    if caller.is_team or await store.is_manager(session, row.practice_id, caller.user_id):
        return
    raise not_managing(row.practice_id)


async def managers_changed(session: AsyncSession, practice_id: str, now: datetime) -> Event:
    """`PracticeManagersChanged` as the edit version now stands (invitations' view)."""
    row = await store.practice(session, practice_id)
    assert row is not None
    linked = sorted(
        {o.professional_id for o in await store.offers(session, practice_id) if o.in_draft}
    )
    return PracticeManagersChanged(
        practice_id=practice_id,
        practice_name=row.name,
        manager_user_ids=tuple(await store.manager_ids(session, practice_id)),
        linked_professional_ids=tuple(linked),
        occurred_at=now,
    )


async def publish_offers(
    session: AsyncSession,
    outbox: Outbox,
    practice_id: str,
    now: datetime,
    *,
    professional_id: str | None = None,
    professions: Iterable[str] | None = None,
) -> int:
    """Publish the offer block's pending changes (all, or one provider's); events for each.

    Nothing happens while the practice itself is unpublished: its offer block becomes
    public with the practice's first publication.
    """
    row = await store.practice(session, practice_id)
    if row is None or not row.published:
        return 0
    wanted = set(professions) if professions is not None else None
    pending = [
        o
        for o in await store.offers(session, practice_id)
        if o.in_draft != o.in_published
        and (professional_id is None or o.professional_id == professional_id)
        and (wanted is None or o.profession in wanted)
    ]
    events: list[Event] = []
    for offer in pending:
        facts = {
            "practice_id": practice_id,
            "provider_fiche_id": offer.provider_fiche_id,
            "professional_id": offer.professional_id,
            "profession": offer.profession,
            "occurred_at": now,
        }
        if offer.in_draft:
            events.append(OfferLinked(**facts))
        else:
            events.append(OfferUnlinked(**facts, reason=OfferUnlinkReason.STOPPED))
    await store.mark_offers_published(session, pending)
    await outbox.add_all(session, events)
    return len(pending)


async def publish_practice(
    session: AsyncSession, outbox: Outbox, row: Any, user_id: str, now: datetime
) -> list[str]:
    """Make the edit version (data and offer block) the published version."""
    changed = changed_fields(row.published_data, row.draft)
    first = not row.published
    revision = row.revision + 1
    await session.execute(
        sa.update(practice_fiches)
        .where(practice_fiches.c.practice_id == row.practice_id)
        .values(
            published_data=row.draft,
            published=True,
            revision=revision,
            published_search_name=preferred_name(row.draft).lower(),
            updated_at=now,
        )
    )
    await outbox.add(
        session,
        public_event(
            row.draft, practice_id=row.practice_id, revision=revision, first=first, now=now
        ),
    )
    offers_published = await publish_offers(session, outbox, row.practice_id, now)
    if offers_published:
        changed = sorted({*changed, "offers"})
    await store.add_history(
        session,
        fiche_type=PRACTICE,
        fiche_id=row.practice_id,
        action="publish",
        user_id=user_id,
        changed=changed,
        snapshot=row.draft,
    )
    return changed


async def link_offers(
    session: AsyncSession,
    outbox: Outbox,
    *,
    practice_id: str,
    provider: Any,
    professions: Sequence[str],
    user_id: str,
    action: str,
    now: datetime,
    publish: bool,
) -> list[str]:
    """Link a provider's offers in the edit version (publishing just those if asked)."""
    linked = []
    for profession in professions:
        if await store.set_offer(
            session,
            practice_id=practice_id,
            professional_id=provider.professional_id,
            provider_fiche_id=provider.fiche_id,
            profession=profession,
            in_draft=True,
            user_id=user_id,
        ):
            linked.append(profession)
    if publish:
        await publish_offers(
            session,
            outbox,
            practice_id,
            now,
            professional_id=provider.professional_id,
            professions=professions,
        )
    if linked:
        await _offer_history(session, practice_id, user_id, action)
        await outbox.add(session, await managers_changed(session, practice_id, now))
    return linked


async def _offer_history(
    session: AsyncSession, practice_id: str, user_id: str, action: str
) -> None:
    row = await store.practice(session, practice_id)
    assert row is not None
    await store.add_history(
        session,
        fiche_type=PRACTICE,
        fiche_id=practice_id,
        action=action,
        user_id=user_id,
        changed=["offers"],
        snapshot=row.draft,
    )


def public_professions_of(provider: Any) -> set[str]:
    """Codes of the professions a provider fiche shows (those that may be practised)."""
    records = (ProfessionRecord.model_validate(p) for p in provider.professions)
    return {record.profession for record in records if record.may_practise()}


def may_offer(caller: Caller, professions: Sequence[str], loc: str = "offers") -> None:
    """A professional may tick only offers of professions they may practise."""
    if not professions:
        return
    if not caller.is_professional:
        raise Forbidden(
            "only a healthcare professional logged in as such can link their own offer; "
            "log in as professional (zorgverlener)"
        )
    foreign = sorted(set(professions) - set(caller.professions))
    if foreign:
        raise Invalid(
            f"you can only link offers of professions you may practise "
            f"({', '.join(caller.professions) or 'none'}); not {', '.join(foreign)}",
            ("body", loc),
        )


async def own_provider(session: AsyncSession, caller: Caller) -> Any:
    assert caller.professional_id is not None
    provider = await store.provider_by_professional(session, caller.professional_id)
    if provider is None:
        raise Conflict(
            "your provider fiche is not in the directory yet (the authentic source has not "
            "reached it); try again later or contact the editorial team"
        )
    return provider


class PracticeCommands:
    """What managers, professionals and the team do to practice fiches."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._outbox = uow.outbox

    async def create(
        self, caller: Caller, data: PracticeData, offers: Sequence[str], publish: bool
    ) -> str:
        may_offer(caller, offers)
        practice_id = str(uuid.uuid4())
        draft = stored(data)
        now = store.utcnow()
        async with self._uow.write() as session:
            provider = await own_provider(session, caller) if offers else None
            name = preferred_name(draft)
            await session.execute(
                sa.insert(practice_fiches).values(
                    practice_id=practice_id,
                    draft=draft,
                    draft_version=1,
                    published_data=None,
                    published=False,
                    revision=0,
                    removed=False,
                    name=name,
                    search_name=name.lower(),
                    published_search_name=None,
                    created_by=caller.user_id,
                    created_at=now,
                    updated_at=now,
                )
            )
            await session.execute(
                sa.insert(practice_managers).values(
                    practice_id=practice_id,
                    user_id=caller.user_id,
                    granted_by=caller.user_id,
                    granted_at=now,
                )
            )
            await store.add_history(
                session,
                fiche_type=PRACTICE,
                fiche_id=practice_id,
                action="create",
                user_id=caller.user_id,
                changed=changed_fields(None, draft),
                snapshot=draft,
            )
            if provider is not None:
                await link_offers(
                    session,
                    self._outbox,
                    practice_id=practice_id,
                    provider=provider,
                    professions=offers,
                    user_id=caller.user_id,
                    action="link_own_offer",
                    now=now,
                    publish=False,
                )
            else:
                await self._outbox.add(session, await managers_changed(session, practice_id, now))
            if publish:
                row = await store.practice(session, practice_id)
                await publish_practice(session, self._outbox, row, caller.user_id, now)
        return practice_id

    async def edit_view(self, caller: Caller, practice_id: str) -> dict[str, Any]:
        async with self._uow.read() as session:
            row = await load_practice(session, practice_id, lock=False)
            await require_manager(session, row, caller)
            offers = await store.offers(session, practice_id)
            manager_ids = await store.manager_ids(session, practice_id)
            names = await known_users.names(session, manager_ids)
            return {
                "practice_id": practice_id,
                "draft": row.draft,
                "published": row.published,
                "published_version": row.published_data,
                "revision": row.revision,
                "unpublished_changes": (
                    row.published_data != row.draft
                    or any(o.in_draft != o.in_published for o in offers)
                ),
                "managers": manager_ids,
                # Names (never addresses) of the managers; null for a user fiches does not know.
                "manager_names": {user_id: names.get(user_id) for user_id in manager_ids},
                "offers": [
                    {
                        "professional_id": o.professional_id,
                        "provider_fiche_id": o.provider_fiche_id,
                        "profession": o.profession,
                        "in_edit_version": o.in_draft,
                        "in_published_version": o.in_published,
                    }
                    for o in offers
                ],
            }

    async def save(
        self, caller: Caller, practice_id: str, data: PracticeData, publish: bool
    ) -> list[str]:
        """Save the edit version (and publish it when asked); the changed field names."""
        draft = stored(data)
        now = store.utcnow()
        async with self._uow.write() as session:
            row = await load_practice(session, practice_id)
            await require_manager(session, row, caller)
            changed = changed_fields(row.draft, draft)
            if changed:
                await self._write_draft(session, row, draft, caller.user_id, "save", changed, now)
            if publish:
                row = await load_practice(session, practice_id)
                await publish_practice(session, self._outbox, row, caller.user_id, now)
        return changed

    async def _write_draft(
        self,
        session: AsyncSession,
        row: Any,
        draft: dict[str, Any],
        user_id: str,
        action: str,
        changed: Sequence[str],
        now: datetime,
    ) -> None:
        name = preferred_name(draft)
        await session.execute(
            sa.update(practice_fiches)
            .where(practice_fiches.c.practice_id == row.practice_id)
            .values(
                draft=draft,
                draft_version=row.draft_version + 1,
                name=name,
                search_name=name.lower(),
                updated_at=now,
            )
        )
        await store.add_history(
            session,
            fiche_type=PRACTICE,
            fiche_id=row.practice_id,
            action=action,
            user_id=user_id,
            changed=changed,
            snapshot=draft,
        )
        if name != row.name:
            await self._outbox.add(session, await managers_changed(session, row.practice_id, now))

    async def apply_changes(
        self,
        session: AsyncSession,
        row: Any,
        changes: dict[str, Any],
        user_id: str,
        action: str,
    ) -> list[str]:
        """Merge a proposal's changes into the edit version (validated as a whole)."""
        merged = PracticeData.model_validate({**row.draft, **changes})
        draft = stored(merged)
        changed = changed_fields(row.draft, draft)
        if changed:
            await self._write_draft(session, row, draft, user_id, action, changed, store.utcnow())
        return changed

    async def publish(self, caller: Caller, practice_id: str) -> list[str]:
        now = store.utcnow()
        async with self._uow.write() as session:
            row = await load_practice(session, practice_id)
            await require_manager(session, row, caller)
            return await publish_practice(session, self._outbox, row, caller.user_id, now)

    async def add_own_offers(
        self, caller: Caller, practice_id: str, professions: Sequence[str], publish: bool
    ) -> list[str]:
        """A manager who is a professional ticks their own offer(s) on the practice."""
        now = store.utcnow()
        async with self._uow.write() as session:
            row = await load_practice(session, practice_id)
            if not await store.is_manager(session, practice_id, caller.user_id):
                raise Forbidden(
                    "you do not manage this practice fiche: ask to link your offer (POST "
                    f"/api/fiches/practices/{practice_id}/link-requests); its managers or the "
                    "editorial team decide"
                )
            if not professions:
                raise Invalid("name at least one profession to link", ("body", "professions"))
            may_offer(caller, professions, "professions")
            provider = await own_provider(session, caller)
            return await link_offers(
                session,
                self._outbox,
                practice_id=row.practice_id,
                provider=provider,
                professions=professions,
                user_id=caller.user_id,
                action="link_own_offer",
                now=now,
                publish=publish,
            )

    async def remove_offer(
        self,
        caller: Caller,
        practice_id: str,
        professional_id: str,
        profession: str,
        publish: bool,
    ) -> None:
        """A manager (or the team) takes an offer off the practice's offer block."""
        now = store.utcnow()
        async with self._uow.write() as session:
            row = await load_practice(session, practice_id)
            await require_manager(session, row, caller)
            await self.unlink(
                session, row, professional_id, profession, caller.user_id, now, publish
            )

    async def unlink(
        self,
        session: AsyncSession,
        row: Any,
        professional_id: str,
        profession: str,
        user_id: str,
        now: datetime,
        publish: bool,
    ) -> None:
        changed = await store.set_offer(
            session,
            practice_id=row.practice_id,
            professional_id=professional_id,
            provider_fiche_id="",
            profession=profession,
            in_draft=False,
            user_id=user_id,
        )
        if not changed and not publish:
            raise NotFound(
                f"no {profession} offer of provider {professional_id} on practice {row.practice_id}"
            )
        if publish:
            await publish_offers(
                session,
                self._outbox,
                row.practice_id,
                now,
                professional_id=professional_id,
                professions=[profession],
            )
        if changed:
            await _offer_history(session, row.practice_id, user_id, "unlink_offer")
            await self._outbox.add(session, await managers_changed(session, row.practice_id, now))

    # --- managers --------------------------------------------------------------------

    async def managed_by(self, caller: Caller) -> list[dict[str, Any]]:
        """The practice fiches the caller manages (any logged-in user: practice staff
        log in as citizens), by name, with whether each is online and has unsaved work."""
        async with self._uow.read() as session:
            rows = await session.execute(
                sa.select(practice_fiches)
                .join(
                    practice_managers,
                    practice_managers.c.practice_id == practice_fiches.c.practice_id,
                )
                .where(
                    practice_managers.c.user_id == caller.user_id,
                    practice_fiches.c.removed.is_(False),
                )
                .order_by(practice_fiches.c.search_name, practice_fiches.c.practice_id)
            )
            return [
                {
                    "practice_id": row.practice_id,
                    "name": row.name,
                    "published": row.published,
                    "unpublished_changes": row.draft != row.published_data,
                    "revision": row.revision,
                }
                for row in rows
            ]

    async def add_manager(
        self, session: AsyncSession, row: Any, user_id: str, granted_by: str, now: datetime
    ) -> None:
        if await store.is_manager(session, row.practice_id, user_id):
            raise Conflict(f"user {user_id} already manages this practice fiche")
        await session.execute(
            sa.insert(practice_managers).values(
                practice_id=row.practice_id, user_id=user_id, granted_by=granted_by, granted_at=now
            )
        )
        await store.add_history(
            session,
            fiche_type=PRACTICE,
            fiche_id=row.practice_id,
            action="grant_rights",
            user_id=granted_by,
            changed=["managers"],
            snapshot=row.draft,
        )
        await self._outbox.add(session, await managers_changed(session, row.practice_id, now))

    async def remove_manager(
        self, session: AsyncSession, row: Any, user_id: str, removed_by: str
    ) -> None:
        """Withdraw one user's rights (the caller checked who may)."""
        await session.execute(
            sa.delete(practice_managers).where(
                practice_managers.c.practice_id == row.practice_id,
                practice_managers.c.user_id == user_id,
            )
        )
        await store.add_history(
            session,
            fiche_type=PRACTICE,
            fiche_id=row.practice_id,
            action="withdraw_rights",
            user_id=removed_by,
            changed=["managers"],
            snapshot=row.draft,
        )
        await self._outbox.add(
            session, await managers_changed(session, row.practice_id, store.utcnow())
        )

    # --- history ---------------------------------------------------------------------

    async def history(self, caller: Caller, practice_id: str) -> list[dict[str, Any]]:
        async with self._uow.read() as session:
            row = await load_practice(session, practice_id, lock=False)
            await require_manager(session, row, caller)
            return [history_entry(h) for h in await store.history(session, PRACTICE, practice_id)]

    async def restore(self, caller: Caller, practice_id: str, version: int) -> list[str]:
        """The team puts an earlier version back into the edit version (not published)."""
        if not caller.is_team:
            raise Forbidden("only the editorial team restores earlier versions")
        async with self._uow.write() as session:
            row = await load_practice(session, practice_id)
            old = await store.history_version(session, PRACTICE, practice_id, version)
            if old is None:
                raise NotFound(f"practice fiche {practice_id} has no version {version}")
            draft = dict(old.snapshot)
            changed = changed_fields(row.draft, draft)
            await self._write_draft(
                session, row, draft, caller.user_id, f"restore:{version}", changed, store.utcnow()
            )
            return changed


def history_entry(row: Any) -> dict[str, Any]:
    return {
        "version": row.version,
        "action": row.action,
        "user_id": row.user_id,
        "at": as_utc(row.at),
        "changed_fields": list(row.changed_fields),
        "snapshot": row.snapshot,
    }
