"""How many HSDS records of a type have a stored name prefix, kept beside the prefix rows.

An HSDS page says how many records match (`total_items`). For a search on one name word of
3 to 7 characters (`/hsds/services?search=peete`), counting them over `standard_prefixes`
was two thirds of the page's time in PostgreSQL: 1.2 of 1.8 ms a request, an index-only
scan of every matching prefix row (19,810 for "apoth" at 300,000 providers) whose
visibility checks jump across the table (docs/benchmarks.md, "2026-12-01 evening").
`standard_prefix_totals` holds that number per (standard, type, prefix): the page reads one
row (adapters/resource_statements.py).

Kept exactly, in the transaction that writes or deletes the prefix rows
(adapters/name_prefixes.py): a resource's terms are always replaced or forgotten whole
(handlers/standards.py), so the prefix rows one call writes (or deletes) are all of those
resources' rows, and each resource adds (or takes) one to every distinct prefix among
them. Only HSDS's are kept: FHIR pages give no total. A prefix no record has any more keeps
its row, at 0 (a page reads 0 either way).

A first build (adapters/first_build.py) writes the prefix rows without keeping the totals
and counts them once at its end, as it builds the prefix tables' indexes at its end.

Trusted only while every writer kept them. A directory of an earlier release (its pods
during a rollout, every pod after a rollback) writes prefix rows without the totals and
raises the projection's generation without `prefix_totals_at`: from then on no page trusts
the totals (it counts, as before) until a writer of this release finds them behind, counts
them again from the prefix rows (`recount`: 9.8 s at 300,000 providers) in its own
transaction and marks them right at its generation (`raise_generation`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.id_lists import driver_connection
from directory.adapters.tables import projection_generation, standard_prefix_totals
from directory.domain.resources import HSDS

log = logging.getLogger(__name__)

COUNTED_STANDARDS = (HSDS,)
"""The standards whose pages give a total, and so whose prefix totals are kept."""

Counted = tuple[str, str, str]
"""(standard, type, prefix)"""

_COUNTED_SQL = ", ".join(f"'{standard}'" for standard in COUNTED_STANDARDS)

_ADDED_TO_THE_TOTALS = (
    "ON CONFLICT (standard, type, prefix) DO UPDATE SET total = kept.total + excluded.total"
)

ADDED_BY_RETURNING = f"""
INSERT INTO standard_prefix_totals AS kept (standard, type, prefix, total)
SELECT standard, type, prefix, count(DISTINCT id) FROM added
WHERE standard IN ({_COUNTED_SQL})
GROUP BY standard, type, prefix
{_ADDED_TO_THE_TOTALS}
"""
"""The tail of a statement whose CTE `added` inserted prefix rows RETURNING (standard,
type, prefix, id): their records added to the totals (adapters/name_prefixes.py)."""

_ADD_ON_POSTGRESQL = f"""
INSERT INTO standard_prefix_totals AS kept (standard, type, prefix, total)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[])
{_ADDED_TO_THE_TOTALS}
"""

COUNTED_FROM_THE_PREFIX_ROWS = f"""
INSERT INTO standard_prefix_totals (standard, type, prefix, total)
SELECT standard, type, prefix, count(*)
FROM (SELECT DISTINCT standard, type, prefix, id FROM standard_prefixes
      WHERE standard IN ({_COUNTED_SQL})) AS records
GROUP BY standard, type, prefix
"""
"""Every total counted from the prefix rows, into an empty table (`recount`; the bench's
loader runs it too). Each record's prefixes are read once (DISTINCT) in the primary key's
order, then counted per prefix: 9.8 s at 300,000 providers (6.8 million HSDS prefix rows),
where a `count(DISTINCT id)` per prefix sorted them all again: 26.1 s (docs/benchmarks.md,
"2026-12-02 night")."""


def changes(prefix_rows: Iterable[Mapping[str, Any]], sign: int) -> dict[Counted, int]:
    """What these prefix rows (standard, type, prefix, id), all of their resources' rows,
    add to the totals (`sign` 1: written) or take from them (-1: deleted)."""
    records = {
        (row["standard"], row["type"], row["prefix"], row["id"])
        for row in prefix_rows
        if row["standard"] in COUNTED_STANDARDS
    }
    found: dict[Counted, int] = {}
    for standard, type_, prefix, _ in records:
        found[(standard, type_, prefix)] = found.get((standard, type_, prefix), 0) + sign
    return found


async def add(session: AsyncSession, changed: dict[Counted, int]) -> None:
    """Add these changes to the totals (a prefix not kept yet starts at its change)."""
    if not changed:
        return
    if session.get_bind().dialect.name == "postgresql":
        columns = list(zip(*((*key, number) for key, number in changed.items()), strict=True))
        await (await driver_connection(session)).execute(_ADD_ON_POSTGRESQL, *columns)
        return
    table = standard_prefix_totals
    insert = sqlite.insert(table)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[table.c.standard, table.c.type, table.c.prefix],
            set_={"total": table.c.total + insert.excluded.total},
        ),
        [
            {"standard": standard, "type": type_, "prefix": prefix, "total": number}
            for (standard, type_, prefix), number in changed.items()
        ],
    )


FIRST_BUILD = -1
"""`prefix_totals_at` while a first build writes the prefix tables bare: no writer keeps
the totals (nor counts them again), the first build counts them at its end."""

_KEPT = "prefix_totals_kept"
"""`session.info` key: whether this transaction's prefix writes keep the totals."""


async def raise_generation(session: AsyncSession) -> int:
    """Raise the projection's generation (this transaction writes the read model) and keep
    the totals right at the new one: counted again first when a writer that does not keep
    them committed since they were last right; left to a first build while one runs
    (`FIRST_BUILD`). The new generation."""
    generation = projection_generation.c.generation
    totals_at = projection_generation.c.prefix_totals_at
    raised = await session.execute(
        sa.update(projection_generation)
        .where(projection_generation.c.id == 1)
        .values(
            generation=generation + 1,
            prefix_totals_at=sa.case((totals_at == generation, generation + 1), else_=totals_at),
        )
        .returning(generation, totals_at)
    )
    now, right_at = raised.one()
    session.info[_KEPT] = right_at != FIRST_BUILD
    if right_at not in (now, FIRST_BUILD):
        await recount(session)
        await _mark_right(session)
        log.info("counted the HSDS name-prefix totals again: a writer had not kept them")
    return int(now)


def kept_in(session: AsyncSession) -> bool:
    """Whether this transaction's prefix writes keep the totals (not during a first
    build; a transaction that raised no generation keeps them, to be safe)."""
    return bool(session.info.get(_KEPT, True))


async def leave_to_the_first_build(session: AsyncSession) -> None:
    """A first build sets the prefix tables' indexes aside: from now on until its end the
    totals are neither kept nor trusted (kept per chunk they cost a 100,000-event catch-up
    about 4 s; counted once at its end, about 1 s: docs/benchmarks.md)."""
    await session.execute(
        sa.update(projection_generation)
        .where(projection_generation.c.id == 1)
        .values(prefix_totals_at=FIRST_BUILD)
    )


async def count_at_the_first_builds_end(session: AsyncSession) -> None:
    """The first build's prefix rows are written and indexed: count the totals from them
    and mark them right (the caller holds the projection's lock)."""
    await recount(session)
    await _mark_right(session)


async def _mark_right(session: AsyncSession) -> None:
    await session.execute(
        sa.update(projection_generation)
        .where(projection_generation.c.id == 1)
        .values(prefix_totals_at=projection_generation.c.generation)
    )


async def recount(session: AsyncSession) -> None:
    """Count the totals again from the prefix rows (`COUNTED_FROM_THE_PREFIX_ROWS`; the
    caller holds the projection's lock, so no other writer changes them meanwhile)."""
    await session.execute(sa.delete(standard_prefix_totals))
    await session.execute(sa.text(COUNTED_FROM_THE_PREFIX_ROWS))


def totals_are_right() -> sa.ColumnElement[bool]:
    """SQL: whether the kept totals are right now (every writer since kept them)."""
    generation = projection_generation
    return (
        sa.select(generation.c.prefix_totals_at == generation.c.generation)
        .where(generation.c.id == 1)
        .scalar_subquery()
    )


def kept_total(prefix: sa.BindParameter[Any]) -> sa.ColumnElement[int]:
    """SQL: the kept total of the search's standard and type (`standard`, `type`) and
    this prefix; 0 when no record ever had it."""
    table = standard_prefix_totals
    total = (
        sa.select(table.c.total)
        .where(
            table.c.standard == sa.bindparam("standard"),
            table.c.type == sa.bindparam("type"),
            table.c.prefix == prefix,
        )
        .scalar_subquery()
    )
    return sa.func.coalesce(total, 0)
