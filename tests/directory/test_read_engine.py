"""The public reads' engine on PostgreSQL: its connections stay open, and it cannot write.

Under more concurrent searches than it has connections, the engine must hand the same
connections round instead of opening and closing extra ones (each a new PostgreSQL
backend); and its sessions are read-only, whatever a statement tries.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from directory.adapters.driver_rows import fetch_rows
from directory.adapters.read_engine import (
    READ_POOL_SIZE,
    HeldConnections,
    Reads,
    read_engine,
    retry_once_on_disconnect,
)
from servicekit.runtime import ServiceRuntime


@dataclass
class RuntimeStandIn:
    """What `read_engine` uses of a service runtime."""

    database_url: str
    closers: list[Any] = field(default_factory=list)

    def close_on_stop(self, _name: str, close: Any) -> None:
        self.closers.append(close)


@pytest.fixture
async def reads(postgresql_url: str) -> AsyncIterator[AsyncEngine]:
    # PostgreSQL only: on SQLite the service's engine serves the reads.
    runtime = RuntimeStandIn(postgresql_url)
    engine = read_engine(cast(ServiceRuntime, runtime))
    try:
        yield engine
    finally:
        for close in runtime.closers:
            await close()


def _count(engine: AsyncEngine, event: str) -> list[int]:
    happened: list[int] = []
    sa.event.listen(engine.sync_engine, event, lambda *_: happened.append(1))
    return happened


async def _three_rounds_of_more_reads_than_connections(reads: Reads) -> None:
    async def one_read() -> None:
        async with reads.connect() as connection:
            await connection.execute(sa.text("SELECT pg_sleep(0.005)"))

    for _ in range(3):
        await asyncio.gather(*(one_read() for _ in range(READ_POOL_SIZE * 2 + 10)))


async def test_more_concurrent_reads_than_connections_reuse_the_same_connections(
    reads: AsyncEngine,
) -> None:
    opened = _count(reads, "connect")

    await _three_rounds_of_more_reads_than_connections(reads)

    assert len(opened) == READ_POOL_SIZE


async def test_a_read_connection_cannot_write(reads: AsyncEngine) -> None:
    async with reads.connect() as connection:
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
            await connection.execute(sa.text("CREATE TABLE written (id int)"))


@pytest.fixture
async def held(reads: AsyncEngine) -> AsyncIterator[HeldConnections]:
    connections = HeldConnections(reads, READ_POOL_SIZE)
    try:
        yield connections
    finally:
        await connections.close()


async def test_held_connections_are_checked_out_of_the_pool_once_not_per_read(
    held: HeldConnections,
) -> None:
    """The pool's checkout and checkin per read were a sixth of a FHIR search's time."""
    checkouts = _count(held.engine, "checkout")

    await _three_rounds_of_more_reads_than_connections(held)

    assert len(checkouts) == READ_POOL_SIZE
    assert held.engine.pool.checkedout() == READ_POOL_SIZE  # type: ignore[attr-defined]
    await held.close()
    assert held.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_held_connection_the_database_dropped_is_replaced_on_the_retry(
    held: HeldConnections,
) -> None:
    async with held.connect() as connection:
        backend = await connection.scalar(sa.text("SELECT pg_backend_pid()"))
    outsider = create_async_engine(held.engine.url, poolclass=NullPool)
    async with outsider.connect() as admin:
        await admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    await outsider.dispose()

    async def read() -> int:
        async with held.connect() as connection:
            return int(await connection.scalar(sa.text("SELECT pg_backend_pid()")))

    assert await retry_once_on_disconnect(read) != backend


async def test_a_cancelled_read_leaves_no_busy_connection_behind(held: HeldConnections) -> None:
    """A request cancelled mid-statement (the client went away) closes its connection;
    the reads after it get connections that answer."""

    async def slow() -> None:
        async with held.connect() as connection:
            await connection.execute(sa.text("SELECT pg_sleep(10)"))

    running = asyncio.create_task(slow())
    await asyncio.sleep(0.5)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running

    async def quick() -> int:
        async with held.connect() as connection:
            return int(await connection.scalar(sa.text("SELECT 1")))

    assert await asyncio.gather(*(quick() for _ in range(READ_POOL_SIZE * 2))) == [1] * (
        READ_POOL_SIZE * 2
    )


async def _until_no_other_backend(admin: AsyncConnection) -> None:
    for _ in range(200):  # a generous deadline of about 10 s
        others = await admin.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        await admin.rollback()  # pg_stat_activity is read once per transaction
        if not others:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the terminated backends did not exit within 10 s")


async def test_after_a_restart_the_retry_does_not_take_another_dropped_connection(
    held: HeldConnections,
) -> None:
    """A restart drops every held connection: the first read to find its connection dead
    gives the idle ones up too, so its retry answers (driver path and SQLAlchemy path)."""

    async def pid_by_the_driver() -> int:
        async with held.connect() as connection:
            rows = await fetch_rows(connection, sa.select(sa.func.pg_backend_pid()), {})
            return int(rows[0][0])

    async def pid_by_sqlalchemy() -> int:
        async with held.connect() as connection:
            return int(await connection.scalar(sa.text("SELECT pg_backend_pid()")))

    for read in (pid_by_the_driver, pid_by_sqlalchemy):
        await asyncio.gather(*(pid_by_sqlalchemy() for _ in range(READ_POOL_SIZE)))
        outsider = create_async_engine(held.engine.url, poolclass=NullPool)
        async with outsider.connect() as admin:
            await admin.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            # After the restart: every backend gone. pg_terminate_backend only signals;
            # a read sent while its backend exits is the next tests' case.
            await _until_no_other_backend(admin)
        await outsider.dispose()

        assert await retry_once_on_disconnect(read) > 0


class _StuckProtocol:
    """An asyncpg connection as a restart can leave it: still open, its protocol in the
    middle of consuming the server's unsolicited error, so every statement fails the way
    asyncpg fails it then. Everything else is the real connection's (closing it too)."""

    def __init__(self, driver: Any) -> None:
        self._driver = driver

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)

    async def prepare(self, *_args: Any, **_kwargs: Any) -> Any:
        raise asyncpg.exceptions.InternalClientError(
            "cannot switch to state 11; another operation (2) is in progress"
        )

    fetch = prepare


async def _held_pids(held: HeldConnections, *, stick: bool = False) -> set[int]:
    """The backends of every connection `held` holds (all of them in use at once); with
    `stick`, each connection is then left as a restart can leave it (`_StuckProtocol`)."""

    async def one() -> int:
        async with held.connect() as connection:
            pid = int(await connection.scalar(sa.text("SELECT pg_backend_pid()")))
            if stick:
                adapted = (await connection.get_raw_connection()).dbapi_connection
                adapted._connection = _StuckProtocol(adapted._connection)  # type: ignore[union-attr]
            return pid

    return set(await asyncio.gather(*(one() for _ in range(READ_POOL_SIZE))))


async def test_a_connection_a_restart_left_stuck_is_let_go_and_the_read_retried(
    held: HeldConnections,
) -> None:
    """asyncpg's "another operation is in progress" on a connection nobody else uses means
    the database ended its backend mid-read: the read is retried on a fresh connection and
    the stuck ones are let go, as after a dropped connection (driver and SQLAlchemy path;
    the statements are new to the connection, so SQLAlchemy prepares them)."""

    async def pid_by_the_driver() -> int:
        async with held.connect() as connection:
            statement = sa.select(sa.func.pg_backend_pid().label("by_the_driver"))
            return int((await fetch_rows(connection, statement, {}))[0][0])

    async def pid_by_sqlalchemy() -> int:
        async with held.connect() as connection:
            return int(await connection.scalar(sa.text("SELECT pg_backend_pid() AS by_sa")))

    for read in (pid_by_the_driver, pid_by_sqlalchemy):
        stuck = await _held_pids(held, stick=True)

        assert await retry_once_on_disconnect(read) not in stuck
        assert not (await _held_pids(held)) & stuck


async def test_reads_sent_at_once_after_a_restart_answer(held: HeldConnections) -> None:
    """The real race: every backend terminated and a search's read sent at once, a hundred
    times. Before stuck protocols were retried, this failed in each of three runs."""
    outsider = create_async_engine(held.engine.url, poolclass=NullPool)
    try:
        for _ in range(100):
            backends = await _held_pids(held)
            async with outsider.connect() as admin:
                await admin.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) pid"
                    ),
                    {"pids": sorted(backends)},
                )

            async def read() -> int:  # as the searches read: on the driver (driver_rows)
                async with held.connect() as connection:
                    rows = await fetch_rows(connection, sa.select(sa.func.pg_backend_pid()), {})
                    return int(rows[0][0])

            assert await retry_once_on_disconnect(read) not in backends
    finally:
        await outsider.dispose()


async def test_a_plan_made_while_a_table_was_empty_is_made_again_after_analyze(
    reads: AsyncEngine,
) -> None:
    """The read connections let PostgreSQL keep a generic plan (`plan_cache_mode=auto`).
    A plan it made while a table was empty is kept as the table fills, until the table is
    analyzed: the catch-up's ANALYZEs (planner_statistics, first_build) and autovacuum
    are what make it plan again, on every connection that holds the statement. This is
    PostgreSQL's documented behaviour; the read engine's setting relies on it."""
    writer = create_async_engine(reads.url, poolclass=NullPool)
    try:
        async with writer.begin() as connection:
            await connection.execute(sa.text("CREATE TABLE held (id int PRIMARY KEY, owner int)"))
            await connection.execute(sa.text("CREATE INDEX held_owner ON held (owner)"))
        async with reads.connect() as connection:
            await connection.execute(
                sa.text("PREPARE owned(int[]) AS SELECT id FROM held WHERE owner = ANY($1)")
            )

            async def plan() -> str:
                explained = await connection.execute(sa.text("EXPLAIN EXECUTE owned('{1,2}')"))
                return "\n".join(row[0] for row in explained)

            for _ in range(6):  # five custom plans, then PostgreSQL may keep a generic one
                await connection.execute(sa.text("EXECUTE owned('{1,2}')"))
            made_while_empty = await plan()
            assert "$1" in made_while_empty  # the generic plan, its parameter unbound

            async with writer.begin() as filling:
                await filling.execute(
                    sa.text("INSERT INTO held SELECT n, n / 10 FROM generate_series(1, 50000) n")
                )
            assert await plan() == made_while_empty  # filled: still the empty table's plan

            async with writer.begin() as analyzing:
                await analyzing.execute(sa.text("ANALYZE held"))
            assert await plan() != made_while_empty  # analyzed: planned again
    finally:
        await writer.dispose()
