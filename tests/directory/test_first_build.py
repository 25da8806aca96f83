"""A first build writes the term and prefix tables without their indexes and builds them
at its end (PostgreSQL; directory/adapters/first_build.py): the same read model, and the
same indexes as the migrations build."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from directory.adapters import first_build
from directory.adapters.reference_geocoder import ReferenceGeocoder
from directory.handlers.projection import DirectoryProjection
from tests.directory.support import Searchable
from tests.directory.test_catching_up import apply_with, one_at_a_time_and, read_model, waiting

BARE = [table.name for table in first_build.WRITTEN_BARE]


async def _indexes(d: Searchable) -> set[tuple[str, str]]:
    """The term and prefix tables' indexes as PostgreSQL defines them (name, definition)."""
    async with d.component.runtime.sessions() as session:
        rows = await session.execute(
            sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:t)"),
            {"t": BARE},
        )
        return {(name, definition) for name, definition in rows}


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


async def test_a_first_build_writes_the_term_tables_bare_and_indexes_them_at_its_end(
    database_url_factory: Any, tmp_path: Path
) -> None:
    async with one_at_a_time_and(database_url_factory, tmp_path, "first") as (one, first, events):
        catching_up = _catching_up(fewest_waiting=1)
        await apply_with(first, catching_up, events)
        assert await waiting(first), "a backlog leaves fiches waiting"

        await _caught_up_by_the_idle_flush(first, catching_up)

        assert await read_model(first) == await read_model(one)
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
        stopped = _catching_up(fewest_waiting=1)
        await apply_with(first, stopped, events)
        await stopped.first_build.before_rebuilding(first.component.runtime.sessions)
        assert stopped.first_build.aside and await _indexes(first) == set()

        # A new process: too few waiting for it to set them aside itself.
        restarted = _catching_up(fewest_waiting=first_build.FEWEST_WAITING)
        await _caught_up_by_the_idle_flush(first, restarted)

        assert restarted.first_build.times_set_aside == 0
        assert await _indexes(first) == await _indexes(one)
        assert await read_model(first) == await read_model(one)


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
