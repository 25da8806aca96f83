"""How long a directory takes to rebuild every practice it holds (a script, not a test).

    .venv/bin/python bench/directory_rebuild_all.py --database-prefix probe_full_keep
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--queue-again]

Runs on a database loaded by `bench/directory.py --keep-database` (300,000 providers,
50,000 practices). Migrates it to the newest revision (migration 0011 queues every
practice in `projection_pending`, once; `--queue-again` queues them again as 0011 does, for
a second run on a database already migrated), then rebuilds what waits as a running
directory's idle flush does (`DirectoryProjection.flush_when_idle`: chunks sized toward
REBUILD_SECONDS, the next chunk built ahead), with the garbage collector tuned as
`skaart serve` tunes it, and times it until nothing waits. Prints a Markdown table, also
written to bench/results/directory_rebuild_all.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

# This folder holds a `directory.py`, named like the service package: keep the folder off
# the import path while the package is imported, as bench/directory.py does.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: E402

# The service's package first, then this folder for the scripts' shared output.
from directory.adapters.reference_geocoder import ReferenceGeocoder  # noqa: E402
from directory.entrypoints.kafka import REBUILD_CHUNK, REBUILD_SECONDS  # noqa: E402
from directory.handlers.projection import DirectoryProjection  # noqa: E402

sys.path.append(str(_HERE))
from script_output import measure_table, script_parser, write_result  # noqa: E402

_QUEUE = (
    "INSERT INTO projection_pending (kind, fiche_id) "
    "SELECT 'practice', practice_id FROM search_practices ON CONFLICT DO NOTHING"
)


async def _waiting(engine: Any) -> int:
    async with engine.connect() as connection:
        found = await connection.execute(sa.text("SELECT count(*) FROM projection_pending"))
        return int(found.scalar_one())


async def _migrate(engine: Any) -> float:
    from alembic import command

    from servicekit.database import alembic_config

    def run(connection: Any) -> None:
        command.upgrade(alembic_config("directory.migrations", connection), "heads")

    started = time.perf_counter()
    async with engine.begin() as connection:
        await connection.run_sync(run)
    return time.perf_counter() - started


async def _versions_changed(engine: Any, since: Any) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.text(
                "SELECT standard || ' ' || type, count(*) FROM standard_resources "
                "WHERE last_updated >= :since GROUP BY 1 ORDER BY 1"
            ),
            {"since": since},
        )
        return {kind: int(count) for kind, count in rows}


async def main(url: str, queue_again: bool) -> str:
    from datetime import UTC, datetime

    from servicekit.gc_tuning import tune_for_long_running_service

    engine = create_async_engine(url)
    try:
        migrate_s = await _migrate(engine)
        if queue_again:
            async with engine.begin() as connection:
                await connection.execute(sa.text(_QUEUE))
        waiting = await _waiting(engine)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        projection = DirectoryProjection(
            ReferenceGeocoder(), rebuild_chunk=REBUILD_CHUNK, rebuild_seconds=REBUILD_SECONDS
        )
        tune_for_long_running_service()
        begun = datetime.now(UTC)
        started = time.perf_counter()
        flush = asyncio.create_task(projection.flush_when_idle(sessions, idle_s=0.0))
        while await _waiting(engine):
            if flush.done():
                flush.result()  # its error, if it stopped on one
            await asyncio.sleep(0.5)
        rebuild_s = time.perf_counter() - started
        flush.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flush
        changed = await _versions_changed(engine, begun)
    finally:
        await engine.dispose()
    rows = [
        ("migrating to the newest revision", f"{migrate_s:.1f} s", "0011 queues the practices"),
        ("practices waiting", f"{waiting:,}", ""),
        ("rebuilding them all", f"{rebuild_s:.1f} s", f"{waiting / rebuild_s:,.0f} practices/s"),
    ]
    rows += [(f"resources with a new version: {kind}", f"{n:,}", "") for kind, n in changed.items()]
    return measure_table(rows)


if __name__ == "__main__":
    parser = script_parser(__doc__)
    parser.add_argument("--database-prefix", default="skaart_bench_directory")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--queue-again", action="store_true")
    args = parser.parse_args()
    base = args.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    table = asyncio.run(main(f"{base}/{args.database_prefix}", args.queue_again))
    print(table)
    write_result("directory_rebuild_all.md", table)
