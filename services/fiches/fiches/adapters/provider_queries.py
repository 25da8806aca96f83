"""Public reads of provider fiches: only published ones."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from fiches.adapters.tables import provider_fiches


class ProviderQueries:
    """What the public reads of provider fiches, on one session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def published(self, fiche_id: str) -> Any | None:
        return (
            await self._session.execute(
                sa.select(provider_fiches).where(
                    provider_fiches.c.fiche_id == fiche_id, provider_fiches.c.published
                )
            )
        ).first()

    async def published_page(
        self,
        *,
        profession: str | None,
        name: str | None,
        professional_id: str | None,
        limit: int,
        offset: int,
    ) -> tuple[int, list[Any]]:
        """(total, one page of rows) of published fiches, by official name."""
        table = provider_fiches
        conditions: list[Any] = [table.c.published]
        if profession:
            conditions.append((" " + table.c.profession_codes + " ").contains(f" {profession} "))
        if name:
            for part in name.lower().split():
                conditions.append(table.c.search_name.contains(part, autoescape=True))
        if professional_id:
            conditions.append(table.c.professional_id == professional_id)
        total = await self._session.scalar(sa.select(sa.func.count()).where(*conditions))
        rows = await self._session.execute(
            sa.select(table)
            .where(*conditions)
            .order_by(table.c.official_last_name, table.c.official_first_name, table.c.fiche_id)
            .limit(limit)
            .offset(offset)
        )
        return int(total or 0), list(rows)
