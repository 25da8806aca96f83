"""What "am I on the map?" reads: a professional's fiche, offers, practices and requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from fiches.adapters import practice_store as store
from fiches.adapters.tables import fiche_requests, practice_fiches, practice_managers


@dataclass(frozen=True)
class MapStatusFacts:
    """The rows the map status is decided on (read in one session)."""

    provider: Any | None
    offers: list[Any]
    managed_ids: set[str]
    pending_ids: set[str]
    by_name: dict[str, list[Any]]
    """Practice fiches found per name asked about (published or edit name)."""
    practices: list[Any]
    """Every practice concerned: offered at, managed, asked to link to, or named."""


async def map_status_facts(
    session: AsyncSession, *, user_id: str, professional_id: str, practice_names: list[str]
) -> MapStatusFacts:
    provider = await store.provider_by_professional(session, professional_id)
    offers = list(await store.offers_of_professional(session, professional_id))
    managed = await session.execute(
        sa.select(practice_managers.c.practice_id).where(practice_managers.c.user_id == user_id)
    )
    managed_ids = {r.practice_id for r in managed}
    pending = await session.execute(
        sa.select(fiche_requests.c.fiche_id).where(
            fiche_requests.c.kind == "link",
            fiche_requests.c.status == "open",
            fiche_requests.c.requester_user_id == user_id,
        )
    )
    pending_ids = {r.fiche_id for r in pending}
    ids = {o.practice_id for o in offers} | managed_ids | pending_ids
    by_name: dict[str, list[Any]] = {}
    for name in practice_names:
        found = await session.execute(
            sa.select(practice_fiches).where(
                sa.or_(
                    practice_fiches.c.published_search_name == name.strip().lower(),
                    practice_fiches.c.search_name == name.strip().lower(),
                ),
                practice_fiches.c.removed.is_(False),
            )
        )
        by_name[name] = list(found)
        ids |= {p.practice_id for p in by_name[name]}
    rows = await session.execute(
        sa.select(practice_fiches).where(
            practice_fiches.c.practice_id.in_(ids), practice_fiches.c.removed.is_(False)
        )
    )
    return MapStatusFacts(provider, offers, managed_ids, pending_ids, by_name, list(rows))
