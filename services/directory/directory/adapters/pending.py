"""Fiches waiting to be rebuilt, and the lock that keeps rebuilds one at a time.

While the projection catches up, each batch records its facts and notes the fiches it
touched in `projection_pending`; the first batch that finds the consumer caught up (or the
idle flush) takes them all and rebuilds each fiche once, from the facts as they are then.
The idle flush looks at the next chunk (`peek`) to build it ahead, and takes exactly
those fiches in its next transaction (`take_these`).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.id_lists import id_chunks
from directory.adapters.tables import projection_pending
from directory.domain.documents import PRACTICE, PROVIDER
from servicekit.id_lists import one_of

_LOCK_KEY = 0x6469726563746F72
"""pg_advisory_xact_lock key of the directory's projection ("director" in ASCII)."""


async def one_writer(session: AsyncSession) -> None:
    """Wait until no other transaction writes the read model, and hold that until this
    one ends: the consumer of every replica and the idle flush then never rebuild the same
    fiche at once. Taken before any other write of the transaction, so it cannot deadlock.
    SQLite lets one writer at a time anyway."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))


_DEFER_ON_POSTGRESQL = sa.text(
    "INSERT INTO projection_pending (kind, fiche_id) "
    "SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS text[])) "
    "ON CONFLICT DO NOTHING"
)


async def defer(
    session: AsyncSession, *, providers: Iterable[str], practices: Iterable[str]
) -> None:
    """Note these fiches for a later rebuild (once each, however often they are noted)."""
    rows = [(PROVIDER, f) for f in sorted(set(providers))] + [
        (PRACTICE, p) for p in sorted(set(practices))
    ]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        # One statement with two array parameters, however many fiches.
        await session.execute(
            _DEFER_ON_POSTGRESQL,
            {"kinds": [kind for kind, _ in rows], "ids": [fiche_id for _, fiche_id in rows]},
        )
        return
    await session.execute(
        sqlite.insert(projection_pending).on_conflict_do_nothing(),
        [{"kind": kind, "fiche_id": fiche_id} for kind, fiche_id in rows],
    )


async def take(session: AsyncSession, limit: int | None = None) -> tuple[set[str], set[str]]:
    """The waiting (providers, practices), at most `limit` of them, removed from the table
    in the same statement (the caller's transaction rebuilds them or puts them back by
    rolling back)."""
    table = projection_pending
    statement = sa.delete(table)
    if limit is not None:
        chosen = (
            sa.select(table.c.kind, table.c.fiche_id)
            .order_by(table.c.kind, table.c.fiche_id)
            .limit(limit)
        )
        statement = statement.where(sa.tuple_(table.c.kind, table.c.fiche_id).in_(chosen))
    rows = await session.execute(statement.returning(table.c.kind, table.c.fiche_id))
    providers: set[str] = set()
    practices: set[str] = set()
    for kind, fiche_id in rows:
        (providers if kind == PROVIDER else practices).add(fiche_id)
    return providers, practices


WaitingKey = tuple[str, str]
"""(kind, fiche_id) of a waiting fiche."""


async def peek(session: AsyncSession, limit: int | None) -> list[WaitingKey]:
    """The waiting fiches `take` would take next (at most `limit`), left waiting."""
    table = projection_pending
    statement = sa.select(table.c.kind, table.c.fiche_id).order_by(table.c.kind, table.c.fiche_id)
    if limit is not None:
        statement = statement.limit(limit)
    return [(kind, fiche_id) for kind, fiche_id in await session.execute(statement)]


async def take_these(
    session: AsyncSession, keys: Iterable[WaitingKey]
) -> tuple[set[str], set[str]]:
    """Of these waiting fiches, the (providers, practices) still waiting, removed from the
    table (as `take`)."""
    table = projection_pending
    wanted = set(keys)
    taken: dict[str, set[str]] = {PROVIDER: set(), PRACTICE: set()}
    for kind, found in taken.items():
        for chunk in id_chunks(fiche_id for k, fiche_id in wanted if k == kind):
            rows = await session.execute(
                sa.delete(table)
                .where(table.c.kind == kind, one_of(session, table.c.fiche_id, chunk))
                .returning(table.c.fiche_id)
            )
            found.update(rows.scalars())
    return taken[PROVIDER], taken[PRACTICE]
