"""Many rows of an index table, as each database takes them best.

(The lists of ids the projection reads and deletes by are `servicekit.id_lists.one_of`:
every consumer's inbox uses it too.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

ID_CHUNK = 2_000
"""Most ids one statement of the projection reads or deletes by."""


def id_chunks(values: Iterable[str]) -> Iterator[list[str]]:
    """The distinct ids, sorted, in lists of at most ID_CHUNK."""
    items = sorted(set(values))
    for start in range(0, len(items), ID_CHUNK):
        yield items[start : start + ID_CHUNK]


async def insert_rows(session: AsyncSession, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows of an index table (text, numbers, booleans, times; no JSON).

    On PostgreSQL with COPY on the session's own connection (inside its transaction):
    an executemany of thousands of term rows spent most of its time in per-row parameter
    processing. Elsewhere a plain executemany.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        await session.execute(sa.insert(table), rows)
        return
    columns = list(rows[0])
    values = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    await (await driver_connection(session)).copy_records_to_table(
        table.name, records=[values(row) for row in rows], columns=columns
    )


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's own (inside its transaction), for what
    SQLAlchemy has no bulk form of: COPY, a statement over arrays."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def delete_rows(session: AsyncSession, table: sa.Table, keys: list[dict[str, Any]]) -> None:
    """Delete these rows of an index table, each named by its whole primary key (one
    executemany: a batch of keyed deletes in one round trip on PostgreSQL)."""
    if not keys:
        return
    key = table.primary_key.columns
    await session.execute(
        sa.delete(table).where(*(column == sa.bindparam(f"k_{column.name}") for column in key)),
        [{f"k_{column.name}": row[column.name] for column in key} for row in keys],
    )
