"""What the use cases on provider and practice fiches share: provider lookups, the
history of provider fiches, the write lock of SQLite and the clock.

Plain functions on the caller's session: they never commit (the use case's unit of work
does). Practice fiches are loaded and saved by `practice_repository`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from fiches.adapters.tables import fiche_history, fiche_requests, practice_offers, provider_fiches


def utcnow() -> datetime:
    return datetime.now(UTC)


async def take_write_lock(session: AsyncSession) -> None:
    """On SQLite, start the write transaction now rather than at the first write.

    A transaction that reads and then writes fails at once ("database is locked") when
    another writer committed in between; one that starts as a writer waits its turn
    (busy timeout) instead. PostgreSQL locks rows with FOR UPDATE instead.
    """
    if (await session.connection()).dialect.name == "sqlite":
        await session.execute(
            sa.update(fiche_requests).where(sa.false()).values(status=fiche_requests.c.status)
        )


async def offers_of_professional(session: AsyncSession, professional_id: str) -> list[Any]:
    rows = await session.execute(
        sa.select(practice_offers).where(practice_offers.c.professional_id == professional_id)
    )
    return list(rows)


async def provider_by_professional(session: AsyncSession, professional_id: str) -> Any | None:
    return (
        await session.execute(
            sa.select(provider_fiches).where(provider_fiches.c.professional_id == professional_id)
        )
    ).first()


async def provider(session: AsyncSession, fiche_id: str, *, lock: bool = False) -> Any | None:
    query = sa.select(provider_fiches).where(provider_fiches.c.fiche_id == fiche_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def next_history_version(session: AsyncSession, fiche_type: str, fiche_id: str) -> int:
    current = await session.scalar(
        sa.select(sa.func.max(fiche_history.c.version)).where(
            fiche_history.c.fiche_type == fiche_type, fiche_history.c.fiche_id == fiche_id
        )
    )
    return int(current or 0) + 1


async def add_history(
    session: AsyncSession,
    *,
    fiche_type: str,
    fiche_id: str,
    action: str,
    user_id: str,
    changed: Sequence[str],
    snapshot: dict[str, Any],
) -> int:
    """Record one change (who, when, which fields, the edit version after it)."""
    version = await next_history_version(session, fiche_type, fiche_id)
    await session.execute(
        sa.insert(fiche_history).values(
            fiche_type=fiche_type,
            fiche_id=fiche_id,
            version=version,
            action=action,
            user_id=user_id,
            at=utcnow(),
            changed_fields=list(changed),
            snapshot=snapshot,
        )
    )
    return version


async def history(session: AsyncSession, fiche_type: str, fiche_id: str) -> list[Any]:
    rows = await session.execute(
        sa.select(fiche_history)
        .where(fiche_history.c.fiche_type == fiche_type, fiche_history.c.fiche_id == fiche_id)
        .order_by(fiche_history.c.version)
    )
    return list(rows)


async def history_version(
    session: AsyncSession, fiche_type: str, fiche_id: str, version: int
) -> Any | None:
    return (
        await session.execute(
            sa.select(fiche_history).where(
                fiche_history.c.fiche_type == fiche_type,
                fiche_history.c.fiche_id == fiche_id,
                fiche_history.c.version == version,
            )
        )
    ).first()
