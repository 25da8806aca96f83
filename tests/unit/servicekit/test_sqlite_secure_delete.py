"""SQLite zeroes what is deleted: a copy of the files does not hold erased rows."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from servicekit.database import create_engine

SECRET = "erased-token-3b1f9c2e7d4a"


async def test_a_deleted_row_leaves_no_trace_in_the_database_or_its_wal(tmp_path: Path) -> None:
    path = tmp_path / "service.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as connection:
            assert (await connection.execute(sa.text("PRAGMA secure_delete"))).scalar() == 1
            await connection.execute(sa.text("CREATE TABLE outbox (id INTEGER, payload TEXT)"))
            await connection.execute(
                sa.text("INSERT INTO outbox VALUES (1, :p), (2, 'other')"), {"p": SECRET * 20}
            )
        async with engine.begin() as connection:
            await connection.execute(sa.text("DELETE FROM outbox WHERE id = 1"))
        async with engine.begin() as connection:
            await connection.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
            await connection.execute(sa.text("INSERT INTO outbox VALUES (3, 'after')"))
        files = [p for p in tmp_path.iterdir() if p.name.startswith("service.db")]
        assert any(p.name.endswith("-wal") for p in files)
        assert [p.name for p in files if SECRET.encode() in p.read_bytes()] == []
    finally:
        await engine.dispose()
