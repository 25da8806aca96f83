"""`column IN (ids)` as each database runs it best.

The projection reads and deletes by lists of up to 500 ids. Written as `IN (...)`, each
list is rendered as that many bind parameters: SQLAlchemy renders them per execution and
PostgreSQL prepares a new statement for every list length (a quarter of a catching-up
batch's time went there). On PostgreSQL the list is one array parameter (`= ANY(:ids)`),
so the statement text, and asyncpg's prepared statement, stay the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def one_of(
    on: AsyncSession | AsyncConnection, column: sa.ColumnElement[Any], values: Iterable[str]
) -> sa.ColumnElement[bool]:
    """`column` is one of `values` (text ids), for the database `on` runs against."""
    listed = list(values)
    dialect = on.get_bind().dialect if isinstance(on, AsyncSession) else on.dialect
    if dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, listed, type_=ARRAY(sa.String())))
    return column.in_(listed)


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
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    columns = list(rows[0])
    values = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        table.name, records=[values(row) for row in rows], columns=columns
    )
