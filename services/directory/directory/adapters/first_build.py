"""A first build writes the term and prefix tables without their indexes (PostgreSQL).

A directory catching up from empty writes about two million term and prefix rows at
100,000 events. Keeping four tables' B-trees up to date row by row cost more than writing
the rows: written bare and indexed afterwards (sorted, once), the same rows took 9.3 s
instead of 15.1 s inside PostgreSQL, and the catch-up, index building included, 40.2-41.1 s
instead of 43.5-46.5 s (docs/benchmarks.md, "2026-11-30 late night").

So when the rebuild is about to start on an empty map (no fiche has a search document)
with at least `FEWEST_WAITING` fiches waiting, the indexes these tables declare, primary
keys included, are set aside; once nothing waits, they are built again from the declared
tables (the migrations build exactly those: a test holds them equal) and analyzed. The
state is the catalog's, not the process's: a directory stopped in between finds the
indexes missing when it starts again and puts them back once it has caught up.

Meanwhile every statement still runs: a fiche rebuilt a second time deletes its old rows
by scanning, and a search scans too (the map is being built: a first build is a new
directory, or one whose database was emptied on purpose). The statements that write these
tables name no conflict target, so no unique index is missed. The search documents and the
resources keep their indexes: each chunk reads them.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.schema import AddConstraint, CreateIndex

from directory.adapters.pending import one_writer
from directory.adapters.tables import (
    projection_pending,
    search_documents,
    search_prefixes,
    search_terms,
    standard_prefixes,
    standard_terms,
)

log = logging.getLogger(__name__)

WRITTEN_BARE = (search_terms, search_prefixes, standard_terms, standard_prefixes)
FEWEST_WAITING = 5_000
"""Fiches waiting before a first build sets the indexes aside: below that, building them
again costs about what keeping them up costs."""
LOCK_WAIT = "5s"
"""How long setting the indexes aside waits for the tables (a search reading them); the
build then keeps them, as before, rather than hold up the searches queued behind it."""
SORT_MEMORY = "256MB"
"""maintenance_work_mem while the indexes are built: sorted in memory, not on disk."""


def _key_name(table: sa.Table) -> str:
    named = table.primary_key.name
    return named if isinstance(named, str) else f"{table.name}_pkey"  # PostgreSQL's default


def _declared(table: sa.Table) -> list[str]:
    return [_key_name(table), *sorted(str(index.name) for index in table.indexes)]


async def _present(session: AsyncSession) -> set[str]:
    rows = await session.execute(
        sa.text(
            "SELECT indexname FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = ANY(:tables)"
        ),
        {"tables": [table.name for table in WRITTEN_BARE]},
    )
    return set(rows.scalars())


async def _map_has_fiches(session: AsyncSession) -> bool:
    """Whether any fiche has a search document (a first build starts on an empty map)."""
    return bool(await session.scalar(sa.select(sa.exists().select_from(search_documents))))


async def indexes_set_aside(session: AsyncSession) -> bool:
    """Whether any index these tables declare is missing (a first build under way)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    present = await _present(session)
    return any(name not in present for table in WRITTEN_BARE for name in _declared(table))


class FirstBuild:
    """Sets the indexes aside before a first build's rebuild and builds them once it ends."""

    def __init__(self, fewest_waiting: int = FEWEST_WAITING) -> None:
        self.fewest_waiting = fewest_waiting
        self.decided = False
        """Whether this process is done looking: once the map has a document, or once it
        has set the indexes aside (or found them aside), there is nothing more to decide."""
        self.aside = False
        self.times_set_aside = 0
        """For tests and logs."""
        self._map_looked_at = False
        """Whether `may_come` found a fiche on the map (or a backend without a first build)."""

    async def may_come(self, session: AsyncSession) -> bool:
        """Whether a batch should leave its fiches waiting rather than rebuild them at once,
        so that the rebuild can still start as a first build: on PostgreSQL, while this
        process has not decided and no fiche has a search document.

        The last batch of a backlog is nearly always shorter than a batch that defers
        (the consumer behind), and it rebuilt a chunk at once: the map's first search
        documents, so the idle flush found fiches on the map and the whole catch-up kept
        its indexes. Its fiches now wait with the rest. (A first fetch that came back
        short with a published fiche in it is still rebuilt at once, by the flush it
        wakes: that catch-up keeps its indexes.)"""
        if self.decided or self._map_looked_at:
            return False
        if session.get_bind().dialect.name != "postgresql":
            self._map_looked_at = True
            return False
        if await _map_has_fiches(session):
            self._map_looked_at = True  # the map has fiches: it never empties by itself
            return False
        return True

    async def before_rebuilding(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Before a rebuild: set the indexes aside if this is a first build, or note that a
        stopped one left them aside. Looks again at the next rebuild while the map is
        empty and too few fiches wait (the first flush of a catch-up may come early)."""
        if self.decided:
            return
        try:
            async with sessions() as session, session.begin():
                if session.get_bind().dialect.name != "postgresql":
                    self.decided = True
                    return
                await one_writer(session)
                if await indexes_set_aside(session):
                    self.aside = self.decided = True  # a first build stopped before its end
                    return
                if await _map_has_fiches(session):
                    self.decided = True  # a map with fiches on it: not a first build
                    return
                if await self._enough_waiting(session):
                    await _drop_indexes(session)
                    self.aside = self.decided = True
                    self.times_set_aside += 1
        except sa.exc.DBAPIError as error:
            self.decided = True
            log.warning(
                "could not set the term tables' indexes aside for the first build; it "
                "keeps them (slower)",
                extra={"error_type": type(error.orig).__name__},
            )
            return
        if self.aside:
            log.info("first build: the term and prefix tables are written without indexes")

    async def _enough_waiting(self, session: AsyncSession) -> bool:
        waiting = sa.select(projection_pending.c.fiche_id).limit(self.fewest_waiting).subquery()
        found = await session.scalar(sa.select(sa.func.count()).select_from(waiting))
        return bool(found is not None and found >= self.fewest_waiting)

    async def after_rebuilding(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """When the indexes are aside and nothing waits: build them again, then analyze."""
        if not self.aside:
            return
        async with sessions() as session, session.begin():
            await one_writer(session)
            if await session.scalar(sa.select(sa.exists().select_from(projection_pending))):
                return  # more came meanwhile: after those
            await session.execute(sa.text(f"SET LOCAL maintenance_work_mem = '{SORT_MEMORY}'"))
            await _build_missing_indexes(session)
        async with sessions() as session, session.begin():
            tables = ", ".join(table.name for table in WRITTEN_BARE)
            await session.execute(sa.text(f"ANALYZE {tables}"))
        self.aside = False
        log.info("first build done: the term and prefix tables are indexed again")


async def _drop_indexes(session: AsyncSession) -> None:
    await session.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
    for table in WRITTEN_BARE:
        for index in table.indexes:
            await session.execute(sa.text(f'DROP INDEX IF EXISTS "{index.name}"'))
        await session.execute(
            sa.text(f'ALTER TABLE {table.name} DROP CONSTRAINT IF EXISTS "{_key_name(table)}"')
        )


async def _build_missing_indexes(session: AsyncSession) -> None:
    """Each declared index that is missing, built as the migrations declare it."""
    present = await _present(session)
    for table in WRITTEN_BARE:
        if _key_name(table) not in present:
            await session.execute(AddConstraint(table.primary_key))
        for index in table.indexes:
            if index.name not in present:
                await session.execute(CreateIndex(index))
