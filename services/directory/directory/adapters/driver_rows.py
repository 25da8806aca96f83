"""Running a per-shape read statement on the database driver itself (PostgreSQL, asyncpg).

The public reads' statements are built once per shape (search_queries, resource_statements),
so their SQL text is fixed too: it is compiled once per statement and run with asyncpg's
`fetch` on the pooled connection, its values in the compiled order. Through SQLAlchemy's
`execute` each request also paid for the compiled-cache lookup, parameter processing and
result wrapping: under load, more than the query itself (bench/floor.py measures the
difference). Rows are read by position (`row[0]`), which both kinds of row allow.

SQLite, and a statement with an expanding (`IN`) parameter, go through SQLAlchemy as before.
A connection the database dropped fails as SQLAlchemy reports it (invalidated), so
`read_engine.retry_once_on_disconnect` runs the request again on a fresh connection.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

_CONNECTION_LOST: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    # A restart can leave the protocol stuck mid-operation (read_engine, "stuck protocol").
    asyncpg.exceptions.InternalClientError,
)


@functools.lru_cache(maxsize=2048)
def _compiled(
    statement: sa.Select[Any], dialect: Dialect
) -> tuple[str, tuple[str, ...], dict[str, Any]] | None:
    """The SQL text, the order of its parameters and the values the statement itself
    carries (a literal); None when it cannot be fixed."""
    compiled = statement.compile(dialect=dialect)
    if any(bind.expanding for bind in compiled.binds.values()):
        return None
    return compiled.string, tuple(compiled.positiontup or ()), dict(compiled.params)


async def fetch_rows(
    connection: AsyncConnection, statement: sa.Select[Any], values: Mapping[str, Any]
) -> Sequence[Any]:
    """The rows of a statement built once per shape, run with `values`."""
    if connection.dialect.driver != "asyncpg":
        return list(await connection.execute(statement, dict(values)))
    found = _compiled(statement, connection.dialect)
    if found is None:
        return list(await connection.execute(statement, dict(values)))
    sql, names, carried = found
    given = {**carried, **values}
    raw = await connection.get_raw_connection()
    try:
        return await raw.driver_connection.fetch(sql, *(given[name] for name in names))  # type: ignore[union-attr]
    except _CONNECTION_LOST as error:
        await connection.invalidate(error)
        raise sa.exc.DBAPIError(sql, None, error, connection_invalidated=True) from error
