"""Read views of practice fiches: the public read, the edit view, managed practices,
the history and the managers. Reads only; writes go through the repository."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from fiches.adapters import known_users
from fiches.adapters.tables import (
    fiche_history,
    fiche_requests,
    practice_fiches,
    practice_managers,
    practice_offers,
    provider_fiches,
)
from fiches.domain.practice_fiche import PRACTICE, preferred_name
from fiches.domain.provider_fiche import display_name
from servicekit.database import as_utc


def history_entry(row: Any) -> dict[str, Any]:
    """One history row as the API shows it."""
    return {
        "version": row.version,
        "action": row.action,
        "user_id": row.user_id,
        "at": as_utc(row.at),
        "changed_fields": list(row.changed_fields),
        "snapshot": row.snapshot,
    }


class PracticeQueries:
    """What people read of practice fiches, on one session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def manager_ids(self, practice_id: str) -> list[str] | None:
        """Who manages the practice (in the order they got their rights); None if there is
        no such practice fiche (or it was removed)."""
        removed = await self._session.scalar(
            sa.select(practice_fiches.c.removed).where(practice_fiches.c.practice_id == practice_id)
        )
        if removed is None or removed:
            return None
        rows = await self._session.execute(
            sa.select(practice_managers.c.user_id)
            .where(practice_managers.c.practice_id == practice_id)
            .order_by(practice_managers.c.granted_at, practice_managers.c.user_id)
        )
        return [row.user_id for row in rows]

    async def managers(self, manager_ids: list[str]) -> list[dict[str, Any]]:
        """Managers with their names (None for a user fiches does not know)."""
        names = await known_users.names(self._session, manager_ids)
        return [{"user_id": user_id, "name": names.get(user_id)} for user_id in manager_ids]

    async def edit_view(self, practice_id: str, manager_ids: list[str]) -> dict[str, Any]:
        """The edit version beside the published one, the offer block and the managers."""
        row = (
            await self._session.execute(
                sa.select(practice_fiches).where(practice_fiches.c.practice_id == practice_id)
            )
        ).one()
        # With each offer's provider, by the name they go by: a manager tells two
        # physicians' offers apart by who they are.
        offers = list(
            await self._session.execute(
                sa.select(
                    practice_offers,
                    provider_fiches.c.official_first_name,
                    provider_fiches.c.official_last_name,
                    provider_fiches.c.own_published,
                )
                .outerjoin(
                    provider_fiches,
                    provider_fiches.c.professional_id == practice_offers.c.professional_id,
                )
                .where(practice_offers.c.practice_id == practice_id)
                .order_by(practice_offers.c.profession, practice_offers.c.professional_id)
            )
        )
        names = await known_users.names(self._session, manager_ids)
        return {
            "practice_id": practice_id,
            "draft": row.draft,
            "published": row.published,
            "published_version": row.published_data,
            "revision": row.revision,
            "unpublished_changes": (
                row.published_data != row.draft or any(o.in_draft != o.in_published for o in offers)
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
                    "provider_name": _provider_name(o),
                }
                for o in offers
            ],
        }

    async def public_practice(self, practice_id: str) -> dict[str, Any] | None:
        """A published practice with the offer blocks the public sees (None if it is not
        published), in two reads: the practice row, then the providers it shows.

        Which providers show is `PracticeFiche.public_offer_blocks`' rule, read here without
        loading the aggregate (its managers and history are not needed): the published
        links of providers whose own fiche is published. Blocks follow the profession,
        providers within one their official name.
        """
        row = (
            await self._session.execute(
                sa.select(
                    practice_fiches.c.published,
                    practice_fiches.c.published_data,
                    practice_fiches.c.revision,
                ).where(practice_fiches.c.practice_id == practice_id)
            )
        ).first()
        if row is None or not row.published or row.published_data is None:
            return None
        shown = await self._session.execute(
            sa.select(
                practice_offers.c.profession,
                provider_fiches.c.fiche_id,
                provider_fiches.c.professional_id,
                provider_fiches.c.own_published,
                provider_fiches.c.official_first_name,
                provider_fiches.c.official_last_name,
            )
            .join(
                provider_fiches, provider_fiches.c.fiche_id == practice_offers.c.provider_fiche_id
            )
            .where(
                practice_offers.c.practice_id == practice_id,
                practice_offers.c.in_published.is_(True),
                provider_fiches.c.published.is_(True),
            )
            .order_by(
                provider_fiches.c.official_last_name,
                provider_fiches.c.official_first_name,
                provider_fiches.c.fiche_id,
            )
        )
        blocks: dict[str, list[dict[str, Any]]] = {}
        # A stable sort: within a profession, the providers keep their name order.
        for offer in sorted(shown, key=lambda offer: str(offer.profession)):
            blocks.setdefault(offer.profession, []).append(_offer_provider(offer))
        data = dict(row.published_data)
        return {
            "practice_id": practice_id,
            "name": preferred_name(data),
            "revision": row.revision,
            "data": data,
            "offer_blocks": [
                {"profession": profession, "providers": providers}
                for profession, providers in blocks.items()
            ],
        }

    async def managed_by(
        self, user_id: str, open_kinds: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """The practice fiches a user manages, by name, each with how many requests of
        `open_kinds` (those its managers decide) wait on it."""
        waiting = (
            sa.select(sa.func.count())
            .where(
                fiche_requests.c.fiche_type == PRACTICE,
                fiche_requests.c.fiche_id == practice_fiches.c.practice_id,
                fiche_requests.c.status == "open",
                fiche_requests.c.kind.in_(list(open_kinds)),
            )
            .scalar_subquery()
        )
        rows = await self._session.execute(
            sa.select(practice_fiches, waiting.label("open_requests"))
            .join(
                practice_managers, practice_managers.c.practice_id == practice_fiches.c.practice_id
            )
            .where(practice_managers.c.user_id == user_id, practice_fiches.c.removed.is_(False))
            .order_by(practice_fiches.c.search_name, practice_fiches.c.practice_id)
        )
        return [
            {
                "practice_id": row.practice_id,
                "name": row.name,
                "published": row.published,
                "unpublished_changes": row.draft != row.published_data,
                "revision": row.revision,
                "open_requests": int(row.open_requests or 0),
            }
            for row in rows
        ]

    async def history(self, practice_id: str) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            sa.select(fiche_history)
            .where(fiche_history.c.fiche_type == PRACTICE, fiche_history.c.fiche_id == practice_id)
            .order_by(fiche_history.c.version)
        )
        return [history_entry(row) for row in rows]


def _offer_provider(row: Any) -> dict[str, Any]:
    own = row.own_published or {}
    return {
        "provider_fiche_id": row.fiche_id,
        "professional_id": row.professional_id,
        "name": display_name(
            own.get("preferred_name"), row.official_first_name, row.official_last_name
        ),
    }


def _provider_name(row: Any) -> str | None:
    """The name an offer's provider goes by, or None when fiches has no fiche of theirs."""
    if row.official_last_name is None:
        return None
    own = row.own_published or {}
    return display_name(own.get("preferred_name"), row.official_first_name, row.official_last_name)
