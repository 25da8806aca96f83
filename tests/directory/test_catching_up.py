"""Catching up: a backlog applied in large batches gives the read model of one event at a
time, and what a catch-up leaves waiting is rebuilt once the consumer is caught up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import directory.handlers.projection as projection_module
from contracts.base import Event
from directory.adapters import planner_statistics
from directory.adapters.reference_geocoder import ReferenceGeocoder
from directory.adapters.tables import (
    practice_places,
    projection_pending,
    search_documents,
    search_offers,
    search_practices,
    search_providers,
    search_terms,
    standard_resources,
    standard_terms,
)
from directory.handlers.projection import DirectoryProjection
from directory.handlers.rebuild import PreparedRebuild
from tests.directory.support import Searchable, searchable_directory

MARC, NELE, AN = "prov-marc", "prov-nele", "prov-an"
WARM, SOLO = "prac-warm", "prac-solo"


def backlog(d: Searchable) -> list[Event]:
    """Several events per key, in the order fiches published them: updates, a link undone
    and done again, a provider depublished and published again, one depublished for good,
    a practice moved, links before the fiches they link."""
    return [
        d.link(WARM, MARC),
        d.provider_event(MARC, "Marc", "Creemers", languages=("nl", "fr")),
        d.practice_event(WARM, "Het Warmste Team", target_groups=("Kinderen",)),
        d.provider_event(NELE, "Nele", "Van Schelvergem", ("nurse",)),
        d.link(WARM, NELE, "nurse"),
        d.practice_event(SOLO, "Praktijk Creemers", postcode="9050", municipality="Gentbrugge"),
        d.link(SOLO, MARC),
        d.provider_event(MARC, "Marc", "Creemers-Peeters", update=True),
        d.unlink(WARM, MARC),
        d.practice_event(WARM, "Het Warmste Team", postcode="9100", update=True),
        d.link(WARM, MARC),
        d.provider_gone(NELE),
        d.provider_event(NELE, "Nele", "Van Schelvergem", ("nurse",), update=True),
        d.provider_event(AN, "Ån", "Peeters", ("physiotherapist",), languages=("en",)),
        d.link(SOLO, AN, "physiotherapist"),
        d.provider_gone(AN),
        d.practice_event(SOLO, "Praktijk Creemers", postcode="9000", update=True),
    ]


_COMPARED: dict[sa.Table, tuple[str, ...] | None] = {
    search_providers: None,
    search_practices: None,
    search_offers: None,
    practice_places: None,
    search_documents: None,
    search_terms: None,
    # A resource's version and time count its changes, which differ by design.
    standard_resources: ("standard", "type", "id", "owner", "active", "content"),
    standard_terms: None,
}


async def read_model(d: Searchable) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with d.component.runtime.sessions() as session:
        for table, columns in _COMPARED.items():
            selected = [table.c[c] for c in columns] if columns else list(table.c)
            rows = await session.execute(sa.select(*selected))
            found[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return found


async def apply_with(d: Searchable, projection: DirectoryProjection, events: list[Event]) -> None:
    async with d.component.runtime.sessions() as session, session.begin():
        await projection.apply(session, events)


async def behind_the_backlog(
    d: Searchable, events: list[Event], rebuild_chunk: int | None = None
) -> DirectoryProjection:
    """A projection that has applied all but the backlog's last event in full batches (the
    consumer behind: every fiche they touched waits); the last event is a short batch."""
    catching_up = DirectoryProjection(
        ReferenceGeocoder(), defer_from=4, rebuild_chunk=rebuild_chunk
    )
    for start in range(0, len(events) - 1, 8):
        await apply_with(d, catching_up, events[start : start + 8])
    return catching_up


async def waiting(d: Searchable) -> int:
    async with d.component.runtime.sessions() as session:
        return (
            await session.execute(sa.select(sa.func.count()).select_from(projection_pending))
        ).scalar_one()


@asynccontextmanager
async def one_at_a_time_and(
    database_url_factory: Any, tmp_path: Path, name: str
) -> AsyncIterator[tuple[Searchable, Searchable, list[Event]]]:
    """(one, other, backlog): `one` has applied the backlog an event at a time, the other
    directory (its database named `name`) nothing yet."""
    async with (
        searchable_directory(await database_url_factory("one_by_one"), tmp_path / "a") as one,
        searchable_directory(await database_url_factory(name), tmp_path / "b") as other,
    ):
        events = backlog(one)
        for event in events:
            await one.apply(event)
        yield one, other, events


async def a_fiche_on_both_maps(one: Searchable, other: Searchable) -> None:
    """A provider already on both maps, so that the backlog's short last batch rebuilds a
    chunk at once. On an empty map (PostgreSQL) it leaves its fiches waiting for the idle
    flush instead, which may make the rebuild a first build (test_first_build.py)."""
    already = one.provider_event("prov-els", "Els", "Janssens")
    await one.apply(already)
    await other.apply(already)


async def drain_by_the_idle_flush(
    d: Searchable, projection: DirectoryProjection, *, polls: int
) -> None:
    """Run the projection's idle flush (as the consumer does when no batch comes) until
    nothing waits, polling every 0.05 s at most `polls` times, then stop it."""
    flush = asyncio.create_task(
        projection.flush_when_idle(d.component.runtime.sessions, idle_s=0.05)
    )
    try:
        for _ in range(polls):
            if not await waiting(d):
                break
            await asyncio.sleep(0.05)
    finally:
        flush.cancel()


async def test_one_batch_with_several_events_per_fiche_gives_the_read_model_of_one_at_a_time(
    database_url_factory: Any, tmp_path: Path
) -> None:
    async with one_at_a_time_and(database_url_factory, tmp_path, "batched") as (
        one,
        batched,
        events,
    ):
        await batched.apply(*events)
        expected = await read_model(one)
        assert expected["search_documents"], "the backlog leaves fiches on the map"
        assert await read_model(batched) == expected
        assert await batched.ids() == await one.ids()


async def test_a_catching_up_projection_rebuilds_each_fiche_once_the_backlog_is_applied(
    database_url_factory: Any, tmp_path: Path
) -> None:
    async with one_at_a_time_and(database_url_factory, tmp_path, "behind") as (
        one,
        behind,
        events,
    ):
        await a_fiche_on_both_maps(one, behind)
        already = await behind.ids()
        catching_up = await behind_the_backlog(behind, events)
        assert await behind.ids() == already, "nothing is rebuilt while the consumer is behind"
        assert await waiting(behind) > 0
        # The last, short batch finds the consumer caught up: everything waiting is rebuilt.
        await apply_with(behind, catching_up, events[16:])
        assert await waiting(behind) == 0
        assert await read_model(behind) == await read_model(one)
        assert AN not in await behind.ids(), "a depublished provider is not on the map"


async def test_what_a_full_last_batch_left_waiting_is_rebuilt_once_no_batch_comes(
    database_url_factory: Any, tmp_path: Path
) -> None:
    async with (
        searchable_directory(await database_url_factory("one_by_one"), tmp_path / "a") as one,
        searchable_directory(await database_url_factory("behind"), tmp_path / "b") as behind,
    ):
        events = backlog(one)
        await one.apply(*events)
        catching_up = DirectoryProjection(ReferenceGeocoder(), defer_from=len(events))
        await apply_with(behind, catching_up, events)
        assert await behind.ids() == []
        await drain_by_the_idle_flush(behind, catching_up, polls=100)
        assert await waiting(behind) == 0
        assert await read_model(behind) == await read_model(one)


async def test_the_waiting_fiches_are_rebuilt_a_chunk_per_transaction(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """The first short batch rebuilds one chunk; the idle flush rebuilds the rest, a chunk
    per transaction (the read-ahead group's depublications get in between), to the same
    read model."""
    async with one_at_a_time_and(database_url_factory, tmp_path, "behind") as (
        one,
        behind,
        events,
    ):
        await a_fiche_on_both_maps(one, behind)
        catching_up = await behind_the_backlog(behind, events, rebuild_chunk=2)
        before = await waiting(behind)
        assert before > 2

        await apply_with(behind, catching_up, events[16:])  # short: caught up, one chunk

        assert await waiting(behind) == before - 2
        await drain_by_the_idle_flush(behind, catching_up, polls=200)
        assert await waiting(behind) == 0
        assert await read_model(behind) == await read_model(one)


async def test_a_batch_that_finds_the_consumer_caught_up_wakes_the_idle_flush_at_once(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """The short batch at the end of a backlog rebuilds one chunk and hands the rest to the
    idle flush, which goes on at once instead of waiting for no batch to come first (here
    an hour: the rest is rebuilt well before it)."""
    async with one_at_a_time_and(database_url_factory, tmp_path, "behind") as (
        one,
        behind,
        events,
    ):
        catching_up = await behind_the_backlog(behind, events, rebuild_chunk=2)
        flush = asyncio.create_task(
            catching_up.flush_when_idle(behind.component.runtime.sessions, idle_s=3600)
        )
        try:
            await asyncio.sleep(0.2)  # the flush is waiting for an idle hour
            assert await waiting(behind) > 2, "nothing is rebuilt before the backlog ends"

            await apply_with(behind, catching_up, events[16:])  # short: caught up, one chunk

            for _ in range(600):  # a generous deadline of about a minute
                if not await waiting(behind):
                    break
                await asyncio.sleep(0.1)
            assert await waiting(behind) == 0
        finally:
            flush.cancel()
        assert await read_model(behind) == await read_model(one)


async def test_a_fiche_linked_to_a_changed_one_waits_with_it_and_is_rebuilt_once(
    database_url_factory: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """A provider renamed while the consumer is behind: the practices linked to her show
    the new name once the backlog is rebuilt (they were noted waiting with her, though no
    event of theirs came), and a chunk at a time each fiche is rebuilt once, not once per
    chunk holding a fiche linked to it."""
    async with one_at_a_time_and(database_url_factory, tmp_path, "behind") as (
        one,
        behind,
        events,
    ):
        await behind.apply(*events)  # both caught up on the backlog
        renamed = one.provider_event(MARC, "Marc", "Creemers-Janssens", update=True)
        await one.apply(renamed)

        rebuilt: list[str] = []
        real_write = projection_module.write_rebuild

        async def counted(session: Any, prepared: PreparedRebuild) -> None:
            # Every rebuild is written here, built in its transaction or ahead of it.
            rebuilt.extend(prepared.providers + prepared.practices)
            await real_write(session, prepared)

        monkeypatch.setattr(projection_module, "write_rebuild", counted)
        catching_up = DirectoryProjection(ReferenceGeocoder(), defer_from=1, rebuild_chunk=1)
        await apply_with(behind, catching_up, [renamed])  # a full batch: noted, not rebuilt
        assert rebuilt == []
        assert await waiting(behind) == 3  # Marc, and the two practices he works in

        await drain_by_the_idle_flush(behind, catching_up, polls=200)

        assert await waiting(behind) == 0
        assert sorted(rebuilt) == sorted([MARC, WARM, SOLO])  # each once
        assert await read_model(behind) == await read_model(one)


_REPLACED_BY_A_REBUILD = (
    "search_terms",
    "search_prefixes",
    "standard_resources",
    "standard_terms",
    "standard_prefixes",
)


def deletes_in(statements: list[str]) -> set[str]:
    """The tables among `_REPLACED_BY_A_REBUILD` that these statements delete from."""
    found = set()
    for statement in statements:
        words = statement.split()
        if words[:2] == ["DELETE", "FROM"] and words[2] in _REPLACED_BY_A_REBUILD:
            found.add(words[2])
    return found


async def test_a_first_build_deletes_nothing_and_a_rebuild_replaces_the_rows_it_built(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """Fiches built for the first time (a directory catching up from empty) have no rows to
    replace: no statement deletes from the term, prefix and resource tables. A fiche built
    again has its rows replaced, to the read model of one event at a time."""
    async with one_at_a_time_and(database_url_factory, tmp_path, "fresh") as (
        one,
        fresh,
        events,
    ):
        statements: list[str] = []

        def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        engine = fresh.component.runtime.engine.sync_engine
        sa.event.listen(engine, "before_cursor_execute", note)
        try:
            await fresh.apply(*events)
            assert statements, "the listener sees the projection's statements"
            assert deletes_in(statements) == set()
            assert await read_model(fresh) == await read_model(one)

            statements.clear()
            renamed = one.provider_event(MARC, "Marc", "Creemers-Janssens", update=True)
            await one.apply(renamed)
            await fresh.apply(renamed)
        finally:
            sa.event.remove(engine, "before_cursor_execute", note)
        assert {"search_terms", "standard_resources", "standard_terms"} <= deletes_in(statements)
        assert await read_model(fresh) == await read_model(one)


async def test_the_idle_flush_sizes_its_chunks_by_the_time_they_take(
    database_url_factory: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """Aiming at (almost) no time per transaction, the flush takes its first chunk at the
    most, then one fiche per transaction: the size follows the measured time, not the
    count alone, and the read model is the same. On PostgreSQL the second transaction
    writes the chunk the first built ahead, sized before the first one's time was known."""
    async with one_at_a_time_and(database_url_factory, tmp_path, "behind") as (
        one,
        behind,
        events,
    ):
        catching_up = DirectoryProjection(
            ReferenceGeocoder(), defer_from=1, rebuild_chunk=3, rebuild_seconds=1e-9
        )
        await apply_with(behind, catching_up, events)  # a full batch: everything waits
        before = await waiting(behind)
        assert before > 4

        chunk_sizes: list[int] = []
        real_write = projection_module.write_rebuild

        async def counted(session: Any, prepared: PreparedRebuild) -> None:
            chunk_sizes.append(len(prepared.providers) + len(prepared.practices))
            await real_write(session, prepared)

        monkeypatch.setattr(projection_module, "write_rebuild", counted)
        await drain_by_the_idle_flush(behind, catching_up, polls=400)

        assert await waiting(behind) == 0
        if behind.component.runtime.engine.dialect.name == "postgresql":  # builds ahead
            assert chunk_sizes == [3, min(3, before - 3)] + [1] * max(0, before - 6)
        else:
            assert chunk_sizes == [3] + [1] * (before - 3)
        assert await read_model(behind) == await read_model(one)


async def test_a_provider_owns_its_practitioner_only_and_leaves_it_inactive(
    database_url_factory: Any, tmp_path: Path
) -> None:
    # The rebuild looks a provider's resources up in FHIR alone (standards.PROVIDER_STANDARDS):
    # a provider must own nothing else, and a depublished one is still found and retired.
    async with searchable_directory(await database_url_factory("owners"), tmp_path) as d:
        for event in backlog(d):
            await d.apply(event)
        async with d.component.runtime.sessions() as session:
            table = standard_resources
            rows = await session.execute(
                sa.select(table.c.owner, table.c.standard, table.c.type, table.c.active).where(
                    table.c.owner.in_((MARC, NELE, AN))
                )
            )
            found = [tuple(row) for row in rows]
    assert sorted(found) == sorted(
        [
            (MARC, "fhir", "Practitioner", True),
            (NELE, "fhir", "Practitioner", True),
            (AN, "fhir", "Practitioner", False),
        ]
    )


async def flush_once(d: Searchable, projection: DirectoryProjection) -> int:
    """One transaction of the idle flush: it writes a chunk and builds the next one ahead."""
    sessions = d.component.runtime.sessions
    async with sessions() as session, session.begin():
        return await projection.rebuild_pending(session, reader=sessions)


async def test_a_chunk_built_ahead_is_written_as_built_when_nothing_changed(
    database_url_factory: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    async with one_at_a_time_and(database_url_factory, tmp_path, "behind") as (
        one,
        behind,
        events,
    ):
        catching_up = DirectoryProjection(ReferenceGeocoder(), defer_from=1, rebuild_chunk=2)
        await apply_with(behind, catching_up, events)  # a full batch: everything waits
        assert await flush_once(behind, catching_up) == 2
        assert catching_up._built_ahead is not None
        built_in_the_transaction: list[int] = []
        real_rebuild = DirectoryProjection.rebuild

        async def counted(self: DirectoryProjection, session: Any, **fiches: Any) -> None:
            built_in_the_transaction.append(len(fiches["providers"]) + len(fiches["practices"]))
            await real_rebuild(self, session, **fiches)

        monkeypatch.setattr(DirectoryProjection, "rebuild", counted)
        while await waiting(behind):
            await flush_once(behind, catching_up)

        assert built_in_the_transaction == []  # every later chunk was built ahead
        assert await read_model(behind) == await read_model(one)


async def test_a_chunk_built_ahead_is_built_again_when_its_facts_changed_after_it(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """Between two transactions of the idle flush, a depublication read ahead takes a
    provider of the chunk built ahead off the map: the next transaction must not put him
    back from what was built before (the generation moved), it rebuilds from the facts."""
    async with one_at_a_time_and(database_url_factory, tmp_path, "behind") as (
        one,
        behind,
        events,
    ):
        catching_up = DirectoryProjection(ReferenceGeocoder(), defer_from=1, rebuild_chunk=2)
        await apply_with(behind, catching_up, events)
        await flush_once(behind, catching_up)
        ahead = catching_up._built_ahead
        assert ahead is not None and ("provider", MARC) in ahead.keys
        assert MARC in {b.fiche_id for b in ahead.prepared.built}, "built as published"

        gone = one.provider_gone(MARC)
        await one.apply(gone)
        sessions = behind.component.runtime.sessions
        async with sessions() as session, session.begin():
            await catching_up.after_read_ahead_batch(session, [gone])
        await flush_once(behind, catching_up)

        assert MARC not in await behind.ids()
        while await waiting(behind):
            await flush_once(behind, catching_up)
        assert await read_model(behind) == await read_model(one)


async def _analyzed(d: Searchable) -> dict[str, bool]:
    """Per table the rebuild reads: whether it was analyzed (PostgreSQL's own record)."""
    async with d.component.runtime.sessions() as session:
        rows = await session.execute(
            sa.text("SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables")
        )
        analyzed = {name: flag for name, flag in rows}
    return {table: analyzed[table] for table in planner_statistics.READ_BY_THE_REBUILD}


async def test_a_catch_up_refreshes_the_statistics_of_the_tables_its_rebuild_reads(
    database_url_factory: Any, tmp_path: Path
) -> None:
    """Planned with the statistics of empty tables, reading a chunk's resources by owner
    scanned all of them: the rebuild analyzes what it reads once a full chunk is done
    (PostgreSQL; SQLite plans without statistics)."""
    async with one_at_a_time_and(database_url_factory, tmp_path, "behind") as (
        one,
        behind,
        events,
    ):
        postgresql = behind.component.runtime.engine.dialect.name == "postgresql"
        if postgresql:
            assert not any((await _analyzed(behind)).values()), "a fresh database"
        catching_up = DirectoryProjection(ReferenceGeocoder(), defer_from=4, rebuild_chunk=2)
        await apply_with(behind, catching_up, events)
        await drain_by_the_idle_flush(behind, catching_up, polls=200)

        assert await waiting(behind) == 0
        assert await read_model(behind) == await read_model(one)
        if postgresql:
            assert catching_up.statistics.analyzed >= 1
            assert all((await _analyzed(behind)).values())
        else:
            assert catching_up.statistics.analyzed == 0


async def test_a_table_held_by_a_vacuum_does_not_stop_the_rebuild(
    database_url_factory: Any, tmp_path: Path, monkeypatch: Any, caplog: Any
) -> None:
    """The ANALYZE waits a moment for a table another session holds, gives up with a
    warning, and the rebuild goes on to the same read model."""
    monkeypatch.setattr(planner_statistics, "LOCK_WAIT", "100ms")
    async with one_at_a_time_and(database_url_factory, tmp_path, "behind") as (
        one,
        behind,
        events,
    ):
        if behind.component.runtime.engine.dialect.name != "postgresql":
            pytest.skip("SQLite plans without statistics: the rebuild runs no ANALYZE")
        catching_up = DirectoryProjection(ReferenceGeocoder(), defer_from=4, rebuild_chunk=2)
        await apply_with(behind, catching_up, events)
        async with behind.component.runtime.engine.connect() as holder:
            await holder.execute(sa.text("LOCK TABLE search_offers IN SHARE UPDATE EXCLUSIVE MODE"))
            await drain_by_the_idle_flush(behind, catching_up, polls=200)
            await holder.rollback()

        assert await waiting(behind) == 0
        assert await read_model(behind) == await read_model(one)
        assert catching_up.statistics.analyzed == 0
        assert "could not refresh the planner statistics" in caplog.text
