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

The indexes are built again `index_builders` at a time, each on a connection of its own:
PostgreSQL builds one index on one core, and the directory has nothing else to do
meanwhile. A primary key is built as a unique index first, like the others, and attached
as the key afterwards (`ADD CONSTRAINT ... USING INDEX`, a moment): `CREATE INDEX` lets
searches read the table while it runs, where `ADD PRIMARY KEY` kept them out of it for
the whole build (about 6 s at 100,000 events).

The HSDS name-prefix totals (adapters/prefix_totals.py) are not kept while the indexes are
aside: they are counted from the prefix rows once, when the keys are attached.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.schema import CreateIndex

from directory.adapters.pending import one_writer
from directory.adapters.prefix_totals import (
    count_at_the_first_builds_end,
    leave_to_the_first_build,
)
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
"""maintenance_work_mem of each index build: sorted in memory, not on disk (so up to
`index_builders` times this at once)."""
INDEX_BUILDERS = 2
"""Indexes built at once at a first build's end (DIRECTORY_FIRST_BUILD_INDEX_BUILDERS)."""


def _key_name(table: sa.Table) -> str:
    named = table.primary_key.name
    return named if isinstance(named, str) else f"{table.name}_pkey"  # PostgreSQL's default


def _declared(table: sa.Table) -> list[str]:
    return [_key_name(table), *sorted(str(index.name) for index in table.indexes)]


_INDEXES_AND_KEYS = sa.text(
    "SELECT index.relname, key.conname IS NOT NULL "
    "FROM pg_index AS entry "
    "JOIN pg_class AS index ON index.oid = entry.indexrelid "
    "JOIN pg_class AS tab ON tab.oid = entry.indrelid "
    "LEFT JOIN pg_constraint AS key ON key.conindid = entry.indexrelid AND key.contype = 'p' "
    "WHERE tab.relnamespace = current_schema()::regnamespace AND tab.relname = ANY(:tables)"
)


async def _present(session: AsyncSession) -> tuple[set[str], set[str]]:
    """The indexes these tables have, and those of them that are a primary key. A key's
    unique index may be there without the key: built, and not attached yet."""
    rows = (
        await session.execute(_INDEXES_AND_KEYS, {"tables": [t.name for t in WRITTEN_BARE]})
    ).all()
    return {name for name, _ in rows}, {name for name, is_key in rows if is_key}


def _is_present(table: sa.Table, name: str, indexes: set[str], keys: set[str]) -> bool:
    return name in keys if name == _key_name(table) else name in indexes


async def _map_has_fiches(session: AsyncSession) -> bool:
    """Whether any fiche has a search document (a first build starts on an empty map)."""
    return bool(await session.scalar(sa.select(sa.exists().select_from(search_documents))))


async def indexes_set_aside(session: AsyncSession) -> bool:
    """Whether any index these tables declare is missing (a first build under way)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    indexes, keys = await _present(session)
    return any(
        not _is_present(table, name, indexes, keys)
        for table in WRITTEN_BARE
        for name in _declared(table)
    )


class FirstBuild:
    """Sets the indexes aside before a first build's rebuild and builds them once it ends."""

    def __init__(
        self, fewest_waiting: int = FEWEST_WAITING, index_builders: int = INDEX_BUILDERS
    ) -> None:
        self.fewest_waiting = fewest_waiting
        self.index_builders = index_builders
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
                    await leave_to_the_first_build(session)
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
            await one_writer(session)  # held until the keys are attached
            if await session.scalar(sa.select(sa.exists().select_from(projection_pending))):
                return  # more came meanwhile: after those
            indexes, keys = await _present(session)
            largest_first = await _largest_first(session)
            declared = _declared_indexes(largest_first)
            builds = [built for name, built in declared if name not in indexes]
            await _at_once(sessions, builds, self.index_builders)
            for table in WRITTEN_BARE:
                if _key_name(table) not in keys:
                    await session.execute(_key_attached(table))
            await count_at_the_first_builds_end(session)
        analyzed = [f"ANALYZE {table.name}" for table in largest_first]
        await _at_once(sessions, analyzed, self.index_builders)
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


_SIZES = sa.text(
    "SELECT relname, pg_relation_size(oid) FROM pg_class "
    "WHERE relnamespace = current_schema()::regnamespace AND relname = ANY(:tables)"
)


async def _largest_first(session: AsyncSession) -> list[sa.Table]:
    """The tables, largest first: an index takes about its table's size to build, and
    the longest builds started first do not end last on their own."""
    rows = await session.execute(_SIZES, {"tables": [t.name for t in WRITTEN_BARE]})
    sizes: dict[str, int] = {name: size for name, size in rows}
    return sorted(WRITTEN_BARE, key=lambda table: -sizes.get(table.name, 0))


def _declared_indexes(tables: Sequence[sa.Table] = WRITTEN_BARE) -> list[tuple[str, str]]:
    """(name, statement) of every index the tables declare, in the tables' order; a
    primary key as the unique index it is built as, named as the key (the name it keeps
    when attached)."""
    built: list[tuple[str, str]] = []
    for table in tables:
        key = ", ".join(f'"{column.name}"' for column in table.primary_key.columns)
        built.append(
            (_key_name(table), f'CREATE UNIQUE INDEX "{_key_name(table)}" ON {table.name} ({key})')
        )
        built += [
            (str(index.name), str(CreateIndex(index).compile(dialect=postgresql.dialect())))
            for index in sorted(table.indexes, key=lambda index: str(index.name))
        ]
    return built


def _key_attached(table: sa.Table) -> sa.TextClause:
    name = _key_name(table)
    return sa.text(
        f'ALTER TABLE {table.name} ADD CONSTRAINT "{name}" PRIMARY KEY USING INDEX "{name}"'
    )


async def _at_once(
    sessions: async_sessionmaker[AsyncSession], statements: list[str], builders: int
) -> None:
    """Run the statements, `builders` at a time, each in a transaction of its own."""
    waiting = list(reversed(statements))

    async def builder() -> None:
        while waiting:
            statement = waiting.pop()
            async with sessions() as session, session.begin():
                await session.execute(sa.text(f"SET LOCAL maintenance_work_mem = '{SORT_MEMORY}'"))
                await session.execute(sa.text(statement))

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, min(builders, len(statements)))):
                group.create_task(builder())
    except ExceptionGroup as failed:
        # The first failure itself, as one transaction would have raised it: the idle
        # flush tells a dropped connection (retried quietly) from anything else by its type.
        raise failed.exceptions[0] from None
