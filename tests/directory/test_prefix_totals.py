"""HSDS name-prefix totals: kept equal to the prefix rows through every change, read by a
page while right, and counted again after a writer that did not keep them
(adapters/prefix_totals.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from directory.adapters.tables import (
    projection_generation,
    standard_prefix_totals,
    standard_prefixes,
)
from tests.directory.support import Searchable, migrate_to
from tests.directory.test_name_prefixes import WORDS, named_world


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[Searchable]:
    async with named_world(await database_url_factory("directory"), tmp_path) as fiches:
        yield fiches


async def kept_prefix_totals(engine: AsyncEngine) -> dict[tuple[str, str, str], int]:
    """The kept totals, without the prefixes no record has any more (kept at 0)."""
    table = standard_prefix_totals
    async with engine.connect() as connection:
        rows = await connection.execute(sa.select(table).where(table.c.total != 0))
    return {(r.standard, r.type, r.prefix): r.total for r in rows}


async def counted_prefix_totals(engine: AsyncEngine) -> dict[tuple[str, str, str], int]:
    """The totals as the HSDS records' prefix rows say."""
    prefixes = standard_prefixes
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.select(
                prefixes.c.standard,
                prefixes.c.type,
                prefixes.c.prefix,
                sa.func.count(sa.distinct(prefixes.c.id)),
            )
            .where(prefixes.c.standard == "hsds")
            .group_by(prefixes.c.standard, prefixes.c.type, prefixes.c.prefix)
        )
    return {(r[0], r[1], r[2]): r[3] for r in rows}


async def prefix_totals_right(engine: AsyncEngine) -> bool:
    table = projection_generation
    async with engine.connect() as connection:
        row = (await connection.execute(sa.select(table).where(table.c.id == 1))).one()
    return bool(row.prefix_totals_at == row.generation)


async def _total(world: Searchable, path: str, word: str) -> int:
    response = await world.http.get(path, params={"search": word, "per_page": "2"})
    assert response.status_code == 200, response.text
    return int(response.json()["total_items"])


async def test_the_totals_follow_the_prefix_rows_through_renames_depublication_and_unlinking(
    world: Searchable,
) -> None:
    engine = world.component.runtime.engine
    assert await kept_prefix_totals(engine) == await counted_prefix_totals(engine) != {}
    assert await prefix_totals_right(engine)
    # A resource with two name words of one prefix counts once ("Peeters-Peetermans").
    double = ("hsds", "organization", "n:peete")
    await world.apply(world.practice_event("pr-double", "Peeters Peetermans Peetjes"))
    kept, counted = await kept_prefix_totals(engine), await counted_prefix_totals(engine)
    assert kept[double] == counted[double] == 2  # pr-double and pr-peeters

    await world.apply(world.provider_event("pv-peeters", "An", "Maes", update=True))
    await world.apply(world.provider_gone("pv-peetermans"))
    await world.apply(world.practice_gone("pr-vander"))
    await world.apply(world.practice_event("pr-double", "Peeters", update=True))
    # Its only physician leaves: the practice's HSDS records for physicians are retired.
    await world.apply(world.unlink("pr-jans", "pv-janssens", "physician"))
    assert await kept_prefix_totals(engine) == await counted_prefix_totals(engine)
    assert await prefix_totals_right(engine)


async def test_a_page_reads_the_kept_total_while_the_totals_are_right(world: Searchable) -> None:
    engine = world.component.runtime.engine
    table = standard_prefix_totals
    before = await _total(world, "/hsds/organizations", "prak")
    assert before > 0
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(table)
            .where(table.c.type == "organization", table.c.prefix == "n:prak")
            .values(total=table.c.total + 1000)
        )
    assert await _total(world, "/hsds/organizations", "prak") == before + 1000
    # Other words are counted as before: a range (2 letters, 8 or more) and two words.
    assert await _total(world, "/hsds/organizations", "pr") == before
    assert await _total(world, "/hsds/organizations", "praktijk") == before
    assert await _total(world, "/hsds/organizations", "prak peete") == 1


async def test_after_a_writer_that_did_not_keep_them_pages_count_until_the_totals_are_counted_again(
    world: Searchable,
) -> None:
    """A directory of the release before writes prefix rows and raises the generation,
    and nothing else: here its rename of one practice, done by hand."""
    engine = world.component.runtime.engine
    word_totals = {w: await _total(world, "/hsds/organizations", w) for w in WORDS}
    assert word_totals["prak"] > 0
    generation, prefixes = projection_generation, standard_prefixes
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(generation)
            .where(generation.c.id == 1)
            .values(generation=generation.c.generation + 1)
        )
        await connection.execute(
            sa.delete(prefixes).where(
                prefixes.c.prefix.in_(["n:pra", "n:prak", "n:prakt", "n:prakti", "n:praktij"])
            )
        )
    assert not await prefix_totals_right(engine)
    assert await kept_prefix_totals(engine) != await counted_prefix_totals(engine)
    assert await _total(world, "/hsds/organizations", "prak") == 0  # counted, not kept

    await world.apply(world.provider_event("pv-peeters", "An", "Maes", update=True))
    assert await prefix_totals_right(engine)
    assert await kept_prefix_totals(engine) == await counted_prefix_totals(engine)
    assert await _total(world, "/hsds/organizations", "prak") == 0
    assert await _total(world, "/hsds/organizations", "jans") == word_totals["jans"]


async def test_the_migration_counts_the_totals_and_marks_them_right(world: Searchable) -> None:
    engine = world.component.runtime.engine
    expected = await counted_prefix_totals(engine)

    await migrate_to(engine, "0007", down=True)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
    assert "standard_prefix_totals" not in tables
    await migrate_to(engine, "heads")
    assert await kept_prefix_totals(engine) == expected != {}
    assert await prefix_totals_right(engine)
    assert await _total(world, "/hsds/organizations", "prak") == 1


def _counting_scans(plan: dict[str, Any], counting: bool = False) -> list[dict[str, Any]]:
    """The nodes reading `standard_prefixes` under a plain aggregate (the count; a page's
    DISTINCT is a hashed aggregate or a Unique)."""
    counting = counting or (
        plan.get("Node Type") == "Aggregate" and plan.get("Strategy") == "Plain"
    )
    found = [plan] if counting and plan.get("Relation Name") == "standard_prefixes" else []
    for child in plan.get("Plans", []):
        found += _counting_scans(child, counting)
    return found


async def test_postgresql_never_runs_the_count_while_the_totals_are_right(
    postgresql_url: str, tmp_path: Path
) -> None:
    from sqlalchemy.dialects import postgresql

    from directory.adapters.resource_statements import statement
    from directory.adapters.standard_queries import ResourceQuery, _conditions

    async with named_world(postgresql_url, tmp_path) as world:
        query = ResourceQuery("hsds", "organization", name_prefixes=("prak",), active=True)
        conditions = replace(_conditions(query), active=None)  # as standard_queries.counted
        compiled = statement(conditions.shape("counted_page_terms")).compile(
            dialect=postgresql.asyncpg.dialect()
        )
        values = {**conditions.values(), "limit": 2, "offset": 0}
        arguments = [values.get(n, compiled.params.get(n)) for n in compiled.positiontup]
        engine = world.component.runtime.engine

        async def loops_of_the_count() -> list[int]:
            async with engine.connect() as connection:
                raw = (await connection.get_raw_connection()).driver_connection
                explained = await raw.fetchval(
                    f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled.string}", *arguments
                )
            if isinstance(explained, str):  # the engine's connections may decode JSON
                explained = json.loads(explained)
            scans = _counting_scans(explained[0]["Plan"])
            assert scans, explained
            return [scan["Actual Loops"] for scan in scans]

        assert set(await loops_of_the_count()) == {0}
        async with engine.begin() as connection:
            await connection.execute(sa.update(projection_generation).values(prefix_totals_at=None))
        assert 0 not in await loops_of_the_count()
