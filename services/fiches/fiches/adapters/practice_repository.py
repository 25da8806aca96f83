"""Loading and saving practice fiches (row, offer block, managers, history).

The repository of one transaction keeps what it loaded, so `save` writes only what the
aggregate changed. Loading for a write locks the practice row on PostgreSQL (FOR UPDATE),
so two managers saving at once are applied one after the other; it never commits (the
use case's unit of work does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from fiches.adapters.tables import (
    fiche_history,
    practice_fiches,
    practice_managers,
    practice_offers,
    provider_fiches,
)
from fiches.domain.practice_fiche import (
    PRACTICE,
    HistoryEntry,
    Manager,
    OfferLink,
    PracticeFiche,
    preferred_name,
)
from servicekit.database import as_utc

_SESSION_KEY = "practice_fiche_repository"
_OfferState = tuple[str, bool, bool, str, Any]


@dataclass
class _Stored:
    """What the database holds of one fiche, to write only the differences."""

    offers: dict[tuple[str, str], _OfferState] = field(default_factory=dict)
    managers: set[str] = field(default_factory=set)


def _offer_state(offer: OfferLink) -> _OfferState:
    return (
        offer.provider_fiche_id,
        offer.in_edit,
        offer.in_published,
        offer.changed_by,
        offer.updated_at,
    )


def _row_values(fiche: PracticeFiche) -> dict[str, Any]:
    name = fiche.name
    published_name = (
        preferred_name(fiche.published_data).lower()
        if fiche.published_data is not None and fiche.published
        else None
    )
    return {
        "draft": fiche.draft,
        "draft_version": fiche.draft_version,
        "published_data": fiche.published_data,
        "published": fiche.published,
        "revision": fiche.revision,
        "removed": fiche.removed,
        "name": name,
        "search_name": name.lower(),
        "published_search_name": published_name,
        "updated_at": fiche.updated_at,
    }


class PracticeFicheRepository:
    """Practice fiches of one transaction (one instance per session: `of`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._stored: dict[str, _Stored] = {}

    @classmethod
    def of(cls, session: AsyncSession) -> PracticeFicheRepository:
        """The repository of this session's transaction."""
        repository = session.info.get(_SESSION_KEY)
        if not isinstance(repository, cls):
            repository = cls(session)
            session.info[_SESSION_KEY] = repository
        return repository

    async def get(self, practice_id: str, *, lock: bool = True) -> PracticeFiche | None:
        """The fiche (removed ones too), its offer block and managers."""
        query = sa.select(practice_fiches).where(practice_fiches.c.practice_id == practice_id)
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        offers = await self._offers(practice_id)
        managers = await self._managers(practice_id)
        last_version = await self._session.scalar(
            sa.select(sa.func.max(fiche_history.c.version)).where(
                fiche_history.c.fiche_type == PRACTICE, fiche_history.c.fiche_id == practice_id
            )
        )
        fiche = PracticeFiche(
            practice_id=row.practice_id,
            draft=dict(row.draft),
            created_by=row.created_by,
            created_at=as_utc(row.created_at),
            updated_at=as_utc(row.updated_at),
            draft_version=row.draft_version,
            published_data=dict(row.published_data) if row.published_data is not None else None,
            published=row.published,
            revision=row.revision,
            removed=row.removed,
            offers=offers,
            managers=managers,
            history_version=int(last_version or 0),
        )
        self._stored[practice_id] = _Stored(
            offers={offer.key: _offer_state(offer) for offer in offers},
            managers=set(fiche.manager_ids),
        )
        return fiche

    async def _offers(self, practice_id: str) -> list[OfferLink]:
        rows = await self._session.execute(
            sa.select(practice_offers, provider_fiches.c.published.label("provider_published"))
            .outerjoin(
                provider_fiches, provider_fiches.c.fiche_id == practice_offers.c.provider_fiche_id
            )
            .where(practice_offers.c.practice_id == practice_id)
            .order_by(practice_offers.c.profession, practice_offers.c.professional_id)
        )
        return [
            OfferLink(
                professional_id=row.professional_id,
                profession=row.profession,
                provider_fiche_id=row.provider_fiche_id,
                in_edit=row.in_draft,
                in_published=row.in_published,
                changed_by=row.changed_by,
                updated_at=row.updated_at,
                provider_published=bool(row.provider_published),
            )
            for row in rows
        ]

    async def _managers(self, practice_id: str) -> list[Manager]:
        rows = await self._session.execute(
            sa.select(practice_managers)
            .where(practice_managers.c.practice_id == practice_id)
            .order_by(practice_managers.c.granted_at, practice_managers.c.user_id)
        )
        return [Manager(row.user_id, row.granted_by, as_utc(row.granted_at)) for row in rows]

    async def history_snapshot(self, practice_id: str, version: int) -> dict[str, Any] | None:
        """The edit version as it stood after history entry `version`, if there is one."""
        snapshot = await self._session.scalar(
            sa.select(fiche_history.c.snapshot).where(
                fiche_history.c.fiche_type == PRACTICE,
                fiche_history.c.fiche_id == practice_id,
                fiche_history.c.version == version,
            )
        )
        return None if snapshot is None else dict(snapshot)

    async def save(self, fiche: PracticeFiche) -> None:
        """Write what changed: the row, offer block entries, managers, new history."""
        stored = self._stored.get(fiche.practice_id)
        if stored is None:
            await self._session.execute(
                sa.insert(practice_fiches).values(
                    practice_id=fiche.practice_id,
                    created_by=fiche.created_by,
                    created_at=fiche.created_at,
                    **_row_values(fiche),
                )
            )
            stored = self._stored[fiche.practice_id] = _Stored()
        else:
            await self._session.execute(
                sa.update(practice_fiches)
                .where(practice_fiches.c.practice_id == fiche.practice_id)
                .values(**_row_values(fiche))
            )
        await self._save_offers(fiche, stored)
        await self._save_managers(fiche, stored)
        await self._save_history(fiche)

    async def _save_offers(self, fiche: PracticeFiche, stored: _Stored) -> None:
        current = {offer.key: offer for offer in fiche.offers}
        table = practice_offers
        for professional_id, profession in set(stored.offers) - set(current):
            await self._session.execute(
                sa.delete(table).where(
                    table.c.practice_id == fiche.practice_id,
                    table.c.professional_id == professional_id,
                    table.c.profession == profession,
                )
            )
        for key, offer in current.items():
            values = {
                "provider_fiche_id": offer.provider_fiche_id,
                "in_draft": offer.in_edit,
                "in_published": offer.in_published,
                "changed_by": offer.changed_by,
                "updated_at": offer.updated_at,
            }
            if key not in stored.offers:
                await self._session.execute(
                    sa.insert(table).values(
                        practice_id=fiche.practice_id,
                        professional_id=offer.professional_id,
                        profession=offer.profession,
                        **values,
                    )
                )
            elif stored.offers[key] != _offer_state(offer):
                await self._session.execute(
                    sa.update(table)
                    .where(
                        table.c.practice_id == fiche.practice_id,
                        table.c.professional_id == offer.professional_id,
                        table.c.profession == offer.profession,
                    )
                    .values(**values)
                )
        stored.offers = {key: _offer_state(offer) for key, offer in current.items()}

    async def _save_managers(self, fiche: PracticeFiche, stored: _Stored) -> None:
        current = set(fiche.manager_ids)
        for user_id in stored.managers - current:
            await self._session.execute(
                sa.delete(practice_managers).where(
                    practice_managers.c.practice_id == fiche.practice_id,
                    practice_managers.c.user_id == user_id,
                )
            )
        for manager in fiche.managers:
            if manager.user_id not in stored.managers:
                await self._session.execute(
                    sa.insert(practice_managers).values(
                        practice_id=fiche.practice_id,
                        user_id=manager.user_id,
                        granted_by=manager.granted_by,
                        granted_at=manager.granted_at,
                    )
                )
        stored.managers = current

    async def _save_history(self, fiche: PracticeFiche) -> None:
        entries: list[HistoryEntry] = fiche.new_history
        for entry in entries:
            await self._session.execute(
                sa.insert(fiche_history).values(
                    fiche_type=PRACTICE,
                    fiche_id=fiche.practice_id,
                    version=entry.version,
                    action=entry.action,
                    user_id=entry.user_id,
                    at=entry.at,
                    changed_fields=list(entry.changed_fields),
                    snapshot=entry.snapshot,
                )
            )
        fiche.new_history = []
