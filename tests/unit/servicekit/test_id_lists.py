"""`one_of`: a column in a list of ids, found alike on SQLite and PostgreSQL, and on
PostgreSQL one statement text whatever the list's length (one prepared statement)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from servicekit.database import create_engine
from servicekit.id_lists import one_of

_things = sa.Table("things", sa.MetaData(), sa.Column("id", sa.String(36), primary_key=True))


async def test_one_of_finds_the_listed_ids_with_one_statement_text(
    database_url_factory: Any,
) -> None:
    engine = create_engine(await database_url_factory("id_lists"))
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(_things.metadata.create_all)
            await connection.execute(sa.insert(_things), [{"id": f"id-{n}"} for n in range(10)])
        sa.event.listen(engine.sync_engine, "before_cursor_execute", note)
        async with engine.connect() as connection:
            found = []
            for wanted in (["id-1", "id-3", "nope"], ["id-7"], [f"id-{n}" for n in range(9)]):
                rows = await connection.execute(
                    sa.select(_things.c.id).where(one_of(connection, _things.c.id, wanted))
                )
                found.append(sorted(rows.scalars()))
        assert found == [["id-1", "id-3"], ["id-7"], [f"id-{n}" for n in range(9)]]
        if engine.dialect.name == "postgresql":
            assert len(set(statements)) == 1, statements
    finally:
        await engine.dispose()
