"""What an export holds: the fiches a user manages, read from fiches' own tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from fiches.adapters.tables import (
    practice_fiches,
    practice_managers,
    practice_offers,
    provider_fiches,
)
from fiches.domain.provider_fiche import display_name


async def managed_fiches(
    session: AsyncSession, user_id: str, professional_id: str | None
) -> list[dict[str, Any]]:
    """The fiches the user manages: their practices (edit version) and own provider fiche."""
    fiches: list[dict[str, Any]] = []
    if professional_id:
        provider = await _own_provider(session, professional_id)
        if provider is not None:
            fiches.append(provider)
    return fiches + await _managed_practices(session, user_id)


async def _own_provider(session: AsyncSession, professional_id: str) -> dict[str, Any] | None:
    provider = (
        await session.execute(
            sa.select(provider_fiches).where(provider_fiches.c.professional_id == professional_id)
        )
    ).first()
    if provider is None:
        return None
    own = provider.own_draft or provider.own_published or {}
    return {
        "fiche_type": "provider",
        "fiche_id": provider.fiche_id,
        "name": display_name(
            own.get("preferred_name"), provider.official_first_name, provider.official_last_name
        ),
        "published": bool(provider.published),
        "revision": provider.revision,
        "official_first_name": provider.official_first_name,
        "official_last_name": provider.official_last_name,
        "professions": [p.get("profession") for p in provider.professions or []],
        "data": own,
    }


async def _managed_practices(session: AsyncSession, user_id: str) -> list[dict[str, Any]]:
    practices = await session.execute(
        sa.select(practice_fiches)
        .join(practice_managers, practice_managers.c.practice_id == practice_fiches.c.practice_id)
        .where(practice_managers.c.user_id == user_id, sa.not_(practice_fiches.c.removed))
        .order_by(practice_fiches.c.name, practice_fiches.c.practice_id)
    )
    # The offers of all those practices in one query, not one query per practice.
    offers_of: dict[str, list[Any]] = {}
    offers = await session.execute(
        sa.select(
            practice_offers.c.practice_id,
            practice_offers.c.profession,
            practice_offers.c.provider_fiche_id,
        )
        .join(practice_managers, practice_managers.c.practice_id == practice_offers.c.practice_id)
        .where(practice_managers.c.user_id == user_id, practice_offers.c.in_draft)
        .order_by(practice_offers.c.profession, practice_offers.c.provider_fiche_id)
    )
    for offer in offers:
        offers_of.setdefault(offer.practice_id, []).append(offer)
    return [
        {
            "fiche_type": "practice",
            "fiche_id": practice.practice_id,
            "name": practice.name,
            "published": bool(practice.published),
            "revision": practice.revision,
            "data": dict(practice.draft or {}),
            "offers": [
                {"profession": o.profession, "provider_fiche_id": o.provider_fiche_id}
                for o in offers_of.get(practice.practice_id, [])
            ],
        }
        for practice in practices
    ]
