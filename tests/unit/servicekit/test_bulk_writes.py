"""Driver-level batch writes store exactly what SQLAlchemy's own statements store.

Including rows that share one object in a column (a batch's `now`, True and False): the
writer reuses a processed value while the object stays the same, and must never carry a
value over to a row whose object differs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from servicekit.database import create_engine
from servicekit.messaging.bulk import EncodedJson, copy_rows, insert_rows, update_rows


def _table(metadata: sa.MetaData, name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.String(10), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flag", sa.Boolean(), nullable=False),
        sa.Column("other_flag", sa.Boolean(), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )


def _rows() -> list[dict[str, Any]]:
    # None in the JSON column: see test_a_json_none_is_stored_as_sqlalchemy_stores_it.
    now = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)
    later = now + timedelta(seconds=1)
    shared = {"a": [1, 2]}
    return [
        {"id": "1", "at": now, "flag": True, "other_flag": None, "facts": shared, "count": 1},
        {"id": "2", "at": now, "flag": True, "other_flag": False, "facts": shared, "count": 2},
        {"id": "3", "at": later, "flag": False, "other_flag": False, "facts": [], "count": 3},
        {"id": "4", "at": now, "flag": True, "other_flag": True, "facts": {"b": 1}, "count": 4},
        {
            "id": "5",
            "at": later,
            "flag": False,
            "other_flag": None,
            "facts": EncodedJson('{"c":"d"}'),
            "count": 5,
        },
    ]


async def _stored(connection: Any, table: str) -> list[tuple[Any, ...]]:
    result = await connection.exec_driver_sql(
        f"SELECT id, at, flag, other_flag, facts, count FROM {table} ORDER BY id"
    )
    return [tuple(row) for row in result.all()]


async def test_batch_writes_store_what_sqlalchemy_stores(database_url_factory: Any) -> None:
    engine = create_engine(await database_url_factory("bulk"))
    metadata = sa.MetaData()
    ours, reference = _table(metadata, "ours"), _table(metadata, "reference")
    rows = _rows()
    # SQLAlchemy's own statement stores the already-encoded JSON as it is, too.
    expected_rows = [
        {**row, "facts": {"c": "d"}} if isinstance(row["facts"], EncodedJson) else row
        for row in rows
    ]
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await insert_rows(connection, ours, rows)
            await connection.execute(sa.insert(reference), expected_rows)
            assert await _stored(connection, "ours") == await _stored(connection, "reference")

            changed = [
                {"id": row["id"], "at": rows[0]["at"], "flag": not row["flag"]} for row in rows
            ]
            await update_rows(connection, ours, "id", changed)
            for row in changed:
                await connection.execute(
                    sa.update(reference)
                    .where(reference.c.id == row["id"])
                    .values(at=row["at"], flag=row["flag"])
                )
            assert await _stored(connection, "ours") == await _stored(connection, "reference")
    finally:
        await engine.dispose()


def _json_table(metadata: sa.MetaData, name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.String(10), primary_key=True),
        # SQLAlchemy's default: None is stored as JSON `null`.
        sa.Column("facts", sa.JSON(), nullable=True),
        # `none_as_null`: None is stored as SQL NULL.
        sa.Column("maybe", sa.JSON(none_as_null=True), nullable=True),
    )


async def _json_stored(connection: Any, table: str) -> list[tuple[Any, ...]]:
    result = await connection.exec_driver_sql(
        f"SELECT id, facts IS NULL, maybe IS NULL FROM {table} ORDER BY id"
    )
    return [(row[0], bool(row[1]), bool(row[2])) for row in result.all()]


async def test_a_json_none_is_stored_as_sqlalchemy_stores_it(database_url_factory: Any) -> None:
    """JSON `null` in a plain JSON column, SQL NULL where the column says `none_as_null`:
    by insert, by update, and by COPY on PostgreSQL (`copy_rows`)."""
    engine = create_engine(await database_url_factory("bulk_none"))
    metadata = sa.MetaData()
    tables = {name: _json_table(metadata, name) for name in ("inserted", "copied", "reference")}
    rows: list[dict[str, Any]] = [
        {"id": "1", "facts": None, "maybe": None},
        {"id": "2", "facts": {"a": 1}, "maybe": [1]},
        {"id": "3", "facts": None, "maybe": None},
    ]
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await insert_rows(connection, tables["inserted"], rows)
            await copy_rows(connection, tables["copied"], rows)
            await connection.execute(sa.insert(tables["reference"]), rows)
            expected = [("1", False, True), ("2", False, False), ("3", False, True)]
            for name in tables:
                assert await _json_stored(connection, name) == expected, name

            cleared = [{"id": "2", "facts": None, "maybe": None}]
            await update_rows(connection, tables["inserted"], "id", cleared)
            await connection.execute(
                sa.update(tables["reference"])
                .where(tables["reference"].c.id == "2")
                .values(facts=None, maybe=None)
            )
            expected[1] = ("2", False, True)
            for name in ("inserted", "reference"):
                assert await _json_stored(connection, name) == expected, name
    finally:
        await engine.dispose()
