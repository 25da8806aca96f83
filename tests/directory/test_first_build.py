"""A first build writes the term and prefix tables without their indexes and builds them
at its end (PostgreSQL; directory/adapters/first_build.py): the same read model, and the
same indexes as the migrations build."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from directory.adapters import first_build
from directory.adapters.reference_geocoder import ReferenceGeocoder
from directory.handlers.projection import DirectoryProjection
from tests.directory.support import Searchable
from tests.directory.test_catching_up import apply_with, one_at_a_time_and, read_model, waiting
from tests.directory.test_prefix_totals import (
    counted_prefix_totals,
    kept_prefix_totals,
    prefix_totals_right,
)

BARE = [table.name for table in first_build.WRITTEN_BARE]


async def _indexes(d: Searchable) -> set[tuple[str, str, bool]]:
    """The term and prefix tables' indexes as PostgreSQL defines them (name, definition,
    whether it is the table's primary key)."""
    async with d.component.runtime.sessions() as session:
        rows = await session.execute(
            sa.text(
                "SELECT index.relname, pg_get_indexdef(entry.indexrelid), entry.indisprimary "
                "FROM pg_index AS entry JOIN pg_class AS index ON index.oid = entry.indexrelid "
                "WHERE entry.indrelid IN (SELECT oid FROM pg_class WHERE relname = ANY(:t))"
            ),
            {"t": BARE},
        )
        return {(name, definition, is_key) for name, definition, is_key in rows}


async def _prefix_totals_counted_and_right(d: Searchable) -> None:
    """The HSDS name-prefix totals, not kept while the indexes were aside, were counted at
    the build's end (adapters/prefix_totals.py)."""
    engine = d.component.runtime.engine
    assert await kept_prefix_totals(engine) == await counted_prefix_totals(engine) != {}
    assert await prefix_totals_right(engine)


def _postgresql(d: Searchable) -> bool:
    return d.component.runtime.engine.dialect.name == "postgresql"


async def _caught_up_by_the_idle_flush(d: Searchable, projection: DirectoryProjection) -> None:
    """Run the idle flush until nothing waits and the indexes are back (60 s at most)."""
    flush = asyncio.create_task(
        projection.flush_when_idle(d.component.runtime.sessions, idle_s=0.05)
    )
    try:
        for _ in range(1200):
            if not await waiting(d) and not projection.first_build.aside:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the idle flush did not finish the build within 60 s")
    finally:
        flush.cancel()


def _catching_up(fewest_waiting: int) -> DirectoryProjection:
    projection = DirectoryProjection(ReferenceGeocoder(), defer_from=4, rebuild_chunk=2)
    projection.first_build.fewest_waiting = fewest_waiting
    return projection


async def _stopped_with_the_indexes_aside(
    first: Searchable, events: list[Any]
) -> DirectoryProjection:
    """A projection that applied the backlog and set the indexes aside, nothing rebuilt."""
    stopped = _catching_up(fewest_waiting=1)
    await apply_with(first, stopped, events)
    await stopped.first_build.before_rebuilding(first.component.runtime.sessions)
    assert stopped.first_build.aside
    return stopped


async def test_a_first_build_writes_the_term_tables_bare_and_indexes_them_at_its_end(
    database_url_factory: Any, tmp_path: Path
) -> None:
    async with one_at_a_time_and(database_url_factory, tmp_path, "first") as (one, first, events):
        catching_up = _catching_up(fewest_waiting=1)
        await apply_with(first, catching_up, events)
        assert await waiting(first), "a backlog leaves fiches waiting"

        await _caught_up_by_the_idle_flush(first, catching_up)

        assert await read_model(first) == await read_model(one)
        await _prefix_totals_counted_and_right(first)
        if _postgresql(first):
            assert catching_up.first_build.times_set_aside == 1
            assert await _indexes(first) == await _indexes(one), "as the migrations built them"
        else:
            assert catching_up.first_build.times_set_aside == 0, "PostgreSQL only"


async def test_a_catch_up_ending_in_a_short_batch_is_still_a_first_build(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """The backlog's last batch is shorter than a deferring one (the consumer caught up):
    it used to rebuild a chunk at once, so the idle flush found fiches on the map and
    the whole catch-up kept its indexes. On an empty map its fiches wait with the rest."""
    async with one_at_a_time_and(database_url_factory, tmp_path, "first") as (one, first, events):
        catching_up = _catching_up(fewest_waiting=1)
        await apply_with(first, catching_up, events[:-1])  # behind: a deferring batch
        await apply_with(first, catching_up, events[-1:])  # the backlog's end

        await _caught_up_by_the_idle_flush(first, catching_up)

        assert await read_model(first) == await read_model(one)
        if _postgresql(first):
            assert catching_up.first_build.times_set_aside == 1
            assert await _indexes(first) == await _indexes(one)


async def test_a_first_build_stopped_halfway_gets_its_indexes_back_after_a_restart(
    database_url_factory: Any, tmp_path: Path
) -> None:
    async with one_at_a_time_and(database_url_factory, tmp_path, "first") as (one, first, events):
        if not _postgresql(first):
            return  # nothing is set aside on SQLite
        await _stopped_with_the_indexes_aside(first, events)
        assert await _indexes(first) == set()
        assert not await prefix_totals_right(first.component.runtime.engine)  # left to the build

        # A new process: too few waiting for it to set them aside itself.
        restarted = _catching_up(fewest_waiting=first_build.FEWEST_WAITING)
        await _caught_up_by_the_idle_flush(first, restarted)

        assert restarted.first_build.times_set_aside == 0
        assert await _indexes(first) == await _indexes(one)
        assert await read_model(first) == await read_model(one)
        await _prefix_totals_counted_and_right(first)


async def test_a_map_with_fiches_on_it_keeps_its_indexes_while_it_catches_up(
    database_url_factory: Any, tmp_path: Path
) -> None:
    async with one_at_a_time_and(database_url_factory, tmp_path, "first") as (one, _, events):
        behind_again = _catching_up(fewest_waiting=1)
        await apply_with(one, behind_again, events)  # every fiche waits again
        assert await waiting(one)
        indexed = await _indexes(one) if _postgresql(one) else set()

        await _caught_up_by_the_idle_flush(one, behind_again)

        assert behind_again.first_build.times_set_aside == 0
        if _postgresql(one):
            assert await _indexes(one) == indexed


async def test_a_search_holding_the_tables_leaves_the_first_build_its_indexes(
    database_url_factory: Any, tmp_path: Path, monkeypatch: Any, caplog: Any
) -> None:
    """Setting the indexes aside waits a moment for the tables, then keeps them: the build
    goes on as before, to the same read model."""
    monkeypatch.setattr(first_build, "LOCK_WAIT", "100ms")
    async with one_at_a_time_and(database_url_factory, tmp_path, "first") as (one, first, events):
        if not _postgresql(first):
            return  # nothing is set aside on SQLite
        catching_up = _catching_up(fewest_waiting=1)
        await apply_with(first, catching_up, events)
        async with first.component.runtime.engine.connect() as search:
            await search.execute(sa.text("LOCK TABLE search_terms IN ACCESS SHARE MODE"))
            await _caught_up_by_the_idle_flush(first, catching_up)
            await search.rollback()

        assert catching_up.first_build.times_set_aside == 0
        assert "could not set the term tables' indexes aside" in caplog.text
        assert await _indexes(first) == await _indexes(one)
        assert await read_model(first) == await read_model(one)


async def _index_names(d: Searchable) -> set[str]:
    return {name for name, _, _ in await _indexes(d)}


async def test_searches_read_the_term_tables_while_their_indexes_are_built(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """The indexes are built one statement at a time, each committed: while one build
    waits (here, for a transaction holding standard_prefixes), the other tables are
    indexed and every table can be read. A single transaction adding primary keys kept
    searches out of each table it had reached until the whole build ended."""
    async with one_at_a_time_and(database_url_factory, tmp_path, "first") as (one, first, events):
        if not _postgresql(first):
            return  # nothing is set aside on SQLite
        catching_up = await _stopped_with_the_indexes_aside(first, events)
        all_but_one = {name for name, _, _ in await _indexes(one)} - {"standard_prefixes_pkey"}

        engine = first.component.runtime.engine
        async with engine.connect() as holding:
            await holding.execute(
                sa.text("LOCK TABLE standard_prefixes IN ROW EXCLUSIVE MODE")
            )  # as a writer would: CREATE INDEX waits for it, reads do not
            flush = asyncio.create_task(_caught_up_by_the_idle_flush(first, catching_up))
            try:
                for _ in range(1200):
                    if await _index_names(first) >= all_but_one or flush.done():
                        break
                    await asyncio.sleep(0.05)
                assert await _index_names(first) == all_but_one, "the others are built"
                async with engine.connect() as search:
                    await search.execute(sa.text("SET lock_timeout = '10s'"))
                    for table in BARE:
                        await search.execute(sa.text(f"SELECT count(*) FROM {table}"))
                assert catching_up.first_build.aside, "still waiting for the last one"
            finally:
                await holding.rollback()
            await flush

        assert await _indexes(first) == await _indexes(one)
        assert await read_model(first) == await read_model(one)


async def test_a_first_build_stopped_before_attaching_its_keys_attaches_them_after_a_restart(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """A primary key is built as a unique index, then attached: a directory stopped in
    between finds a unique index where the key should be, takes the indexes for still
    aside, and attaches the key once it has caught up."""
    async with one_at_a_time_and(database_url_factory, tmp_path, "first") as (one, first, events):
        if not _postgresql(first):
            return  # nothing is set aside on SQLite
        await _stopped_with_the_indexes_aside(first, events)
        async with first.component.runtime.sessions() as session, session.begin():
            for _, statement in first_build._declared_indexes():
                await session.execute(sa.text(statement))
            assert await first_build.indexes_set_aside(session), "no key is attached yet"

        restarted = _catching_up(fewest_waiting=first_build.FEWEST_WAITING)
        await _caught_up_by_the_idle_flush(first, restarted)

        assert restarted.first_build.times_set_aside == 0
        assert await _indexes(first) == await _indexes(one), "the keys are attached"
        assert await read_model(first) == await read_model(one)


class _CountingSessions:
    """Stands in for a session factory: counts the statements running at once."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.running = self.most_at_once = 0

    def __call__(self) -> _CountingSessions:
        return self

    async def __aenter__(self) -> _CountingSessions:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def begin(self) -> _CountingSessions:
        return self

    async def execute(self, statement: Any) -> None:
        if str(statement).startswith("SET LOCAL"):
            return
        if "fails" in str(statement):
            raise sa.exc.OperationalError(str(statement), {}, ConnectionResetError())
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await asyncio.sleep(0.01)
        self.running -= 1
        self.ran.append(str(statement))


async def test_the_index_builds_run_as_many_at_once_as_configured() -> None:
    statements = [f"CREATE INDEX i{n} ON t (c{n})" for n in range(5)]
    for builders, expected in ((1, 1), (2, 2), (8, 5)):
        sessions = _CountingSessions()
        await first_build._at_once(sessions, statements, builders)  # type: ignore[arg-type]
        assert sorted(sessions.ran) == statements, "each statement runs once"
        assert sessions.most_at_once == expected, builders


async def test_a_failed_index_build_raises_its_own_error() -> None:
    """Not an ExceptionGroup: the idle flush logs and retries by the error's type."""
    statements = ["CREATE INDEX i0 ON t (c0)", "CREATE INDEX fails ON t (c1)"]
    with pytest.raises(sa.exc.OperationalError):
        await first_build._at_once(_CountingSessions(), statements, 2)  # type: ignore[arg-type]
