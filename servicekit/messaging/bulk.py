"""Set-based writes at the driver level: one statement per table per batch.

SQLAlchemy's Core `executemany` spends most of its time per row and per parameter
(bind-name lookups, processor dispatch), which a consumer writing three rows per event
pays hundreds of thousands of times. Here the statement is compiled once per table,
column set and dialect (with the dialect's own parameter style and bind casts), each
row becomes a tuple through the columns' own bind processors (so a value is stored
exactly as SQLAlchemy would store it, None too: JSON `null` in a JSON column unless it
says `none_as_null`), and the driver's `executemany` runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


class EncodedJson(str):
    """A JSON column's value already encoded as JSON text: stored as it is.

    For values encoded more cheaply where they are built (pydantic's `dump_json` of a
    validated model) than by encoding their Python form again.
    """

    __slots__ = ()


class _Compiled:
    """A statement rendered for one dialect, and how to turn a row into its parameters."""

    def __init__(self, statement: Any, dialect: sa.Dialect, types: Mapping[str, Any]) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        # A bind parameter `b_<column>` (the key of an UPDATE) reads the row's `<column>`.
        keys = [name.removeprefix(_KEY_PREFIX) for name in self.names]
        self.values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = (
            itemgetter(*keys) if len(keys) > 1 else lambda row: (row[keys[0]],)
        )
        processors = (types[name]._cached_bind_processor(dialect) for name in self.names)
        self.processed: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (index, process) for index, process in enumerate(processors) if process is not None
        )
        # What None becomes: itself, except in a type that evaluates it (SQLAlchemy's JSON
        # stores JSON `null` unless the column says `none_as_null`), processed once here.
        self.nulls: tuple[Any, ...] = tuple(
            process(None) if types[self.names[index]].should_evaluate_none else None
            for index, process in self.processed
        )

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        values, processed, nulls = self.values, self.processed, self.nulls
        if not processed:
            return [values(row) for row in rows]
        # A column often holds the same object in every row of a batch (the batch's `now`,
        # True and False): its processed value is reused while the object stays the same.
        last_in: list[Any] = [None] * len(processed)
        last_out: list[Any] = [None] * len(processed)
        parameters: list[tuple[Any, ...]] = []
        for row in rows:
            row_values = list(values(row))
            for slot, (index, process) in enumerate(processed):
                value = row_values[index]
                if value is None:
                    row_values[index] = nulls[slot]
                    continue
                if type(value) is EncodedJson:
                    continue
                if value is not last_in[slot]:
                    last_in[slot], last_out[slot] = value, process(value)
                row_values[index] = last_out[slot]
            parameters.append(tuple(row_values))
        return parameters


_KEY_PREFIX = "b_"
_cache: dict[tuple[Any, ...], _Compiled] = {}


def _compiled_insert(table: sa.Table, columns: tuple[str, ...], dialect: sa.Dialect) -> _Compiled:
    key = ("insert", table, columns, dialect.name)
    found = _cache.get(key)
    if found is None:
        statement = sa.insert(table).values({name: sa.bindparam(name) for name in columns})
        types = {name: table.c[name].type for name in columns}
        found = _cache[key] = _Compiled(statement, dialect, types)
    return found


def _compiled_update(
    table: sa.Table, key_column: str, columns: tuple[str, ...], dialect: sa.Dialect
) -> _Compiled:
    key = ("update", table, key_column, columns, dialect.name)
    found = _cache.get(key)
    if found is None:
        changed = [name for name in columns if name != key_column]
        statement = (
            sa.update(table)
            .where(table.c[key_column] == sa.bindparam(_KEY_PREFIX + key_column))
            .values({name: sa.bindparam(name) for name in changed})
        )
        types = {name: table.c[name].type for name in changed}
        types[_KEY_PREFIX + key_column] = table.c[key_column].type
        found = _cache[key] = _Compiled(statement, dialect, types)
    return found


async def insert_rows(
    connection: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` (dicts with the same keys) in one driver-level `executemany`."""
    if not rows:
        return
    compiled = _compiled_insert(table, tuple(rows[0]), connection.dialect)
    await connection.exec_driver_sql(compiled.sql, compiled.parameters(rows))


async def update_rows(
    connection: AsyncConnection,
    table: sa.Table,
    key_column: str,
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Update each row found by `key_column` with the row's other values, in one call."""
    if not rows:
        return
    compiled = _compiled_update(table, key_column, tuple(rows[0]), connection.dialect)
    await connection.exec_driver_sql(compiled.sql, compiled.parameters(rows))


async def copy_rows(
    connection: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """`insert_rows`, with PostgreSQL's COPY where it can: for thousands of rows at once.

    COPY runs on the driver's connection, so only inside the transaction SQLAlchemy has
    already begun there (a statement ran before it in this transaction); otherwise, and on
    other databases, the rows are inserted by `insert_rows`. The values are the same
    (the columns' own bind processors), and so is the outcome: all rows or an error.
    """
    if not rows:
        return
    if connection.dialect.driver == "asyncpg":
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        if driver is not None and driver.is_in_transaction():
            compiled = _compiled_insert(table, tuple(rows[0]), connection.dialect)
            await driver.copy_records_to_table(
                table.name,
                records=compiled.parameters(rows),
                columns=list(compiled.names),
                schema_name=table.schema,
            )
            return
    await insert_rows(connection, table, rows)
