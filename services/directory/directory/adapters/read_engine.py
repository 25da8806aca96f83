"""The engine the public reads use: read-only, autocommit, no pre-ping (PostgreSQL).

A public read is one or a few SELECTs. Through the service's engine each also cost a
pre-ping, a BEGIN and a ROLLBACK: three extra round trips, about a fifth of the server's
busy time under load. This engine runs each statement on its own (autocommit) in a
read-only session and does not ping; a connection the database dropped (a restart) fails
one statement, which `retry_once_on_disconnect` runs again on a fresh connection. A
connection whose protocol a restart left stuck mid-operation counts as dropped
(`_stuck_protocol_is_a_disconnect`).

SQLite has no server round trips to save: there the service's engine is used.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol, TypeVar

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from servicekit.database import is_sqlite
from servicekit.runtime import ServiceRuntime

T = TypeVar("T")
log = logging.getLogger(__name__)


READ_POOL_SIZE = 20
"""Connections the public reads hold, all kept open. The pool used to hold 10 and open up
to 10 more under load, closing each extra one when it came back: at 50 concurrent
searches it kept connecting to PostgreSQL (a new backend process, and its TLS attempt,
each time). Kept open, the same questions were answered at 1,019-1,054 instead of
820-943 searches/s (bench/fiches_search.py, 30,000 providers, no response cache)."""


READ_SESSION_SETTINGS = {
    # PostgreSQL's default, where the service's engine forces custom plans: see below.
    "plan_cache_mode": "auto",
    "default_transaction_read_only": "on",
}
"""The read connections' session settings (bench/floor.py opens its own with the same).

`plan_cache_mode=auto` lets PostgreSQL keep a generic plan for a statement a connection has
run five times, where forcing custom plans (as the service's engine does) planned every
search again: planning a FHIR `near` page took about as long as running it. On the kept
full-scale database, alternating: `near` 943-997 against 775-893 searches/s (one
connection: 715-727 against 454-477), the postcode search 1,114-1,195 against 1,059-1,116;
HSDS `search=` within the runs' spread (bench/directory.py, docs/benchmarks.md).

The service's engine forces custom plans because a generic plan made while a table was
empty is kept as the table fills (fiches' batch lookups fell to 125 events/s). Here it is
kept until the table is analyzed, and a directory that fills its tables analyzes them:
a catch-up's rebuild (planner_statistics), a first build's end (first_build), and
autovacuum for the rest (`test_a_plan_made_while_a_table_was_empty_is_made_again_after_analyze`
holds PostgreSQL to that). And a generic plan made on empty tables reads them through
their indexes anyway: every statement the public searches send, planned so on a new
directory, does (test_generic_plans.py)."""


def read_engine(
    runtime: ServiceRuntime, *, pool_size: int = READ_POOL_SIZE, close_on_stop: bool = True
) -> AsyncEngine:
    """The public reads' engine; disposed when the service stops (`close_on_stop`)."""
    if is_sqlite(runtime.database_url):
        return runtime.engine
    engine = create_async_engine(
        runtime.database_url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": dict(READ_SESSION_SETTINGS)},
        json_serializer=lambda value: orjson.dumps(value).decode(),
        json_deserializer=orjson.loads,
    )
    sa.event.listen(engine.sync_engine, "handle_error", _stuck_protocol_is_a_disconnect)
    if close_on_stop:
        runtime.close_on_stop("public read engine", engine.dispose)
    return engine


def _stuck_protocol_is_a_disconnect(context: sa.engine.ExceptionContext) -> None:
    """asyncpg's InternalClientError counts as a dropped connection.

    A read sent while the database ends its backend (a restart, pg_terminate_backend) can
    find the connection still open, its protocol consuming the server's unsolicited
    FATAL error: it fails with "cannot switch to state 11; another operation (2) is in
    progress", which SQLAlchemy does not take for a disconnect (the socket is not closed
    yet), so the read was not retried (5 reads in 200 sent at once after every backend was
    terminated, before this). The connection can never answer again: SQLAlchemy now
    invalidates it, as it does a dropped one. (Reads on the driver itself: driver_rows.)"""
    if isinstance(context.original_exception.__cause__, asyncpg.exceptions.InternalClientError):
        context.is_disconnect = True


class Reads(Protocol):
    """Where a public read takes its connection: `async with reads.connect() as c`."""

    def connect(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


class HeldConnections:
    """The read engine's connections, checked out once and handed from read to read.

    Checking a connection out of SQLAlchemy's pool and back in for every request (three
    greenlet switches, the pool's bookkeeping and events) cost about 150 microseconds of
    CPU per request, a sixth of a FHIR postcode search's time in the server
    (bench/directory_profile.py). These connections are checked out once, up to `size`,
    and kept in a list: a read takes one, or waits for one while all are in use (as the
    pool made it wait). A read that ends in an error (a dropped connection, a cancelled
    request) closes its connection, returning it to the pool, which resets or discards
    it; the next read checks out a fresh one (after a connection the database dropped,
    the idle ones are replaced too). A read that used SQLAlchemy's `execute`
    ends its (autocommit) transaction before the connection is handed on.
    """

    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self.engine = engine
        self._free: list[AsyncConnection] = []
        self._slots = asyncio.Semaphore(size)

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[AsyncConnection]:
        async with self._slots:
            connection = self._free.pop() if self._free else await self.engine.connect()
            try:
                yield connection
                if connection.in_transaction():
                    await connection.rollback()
            except BaseException:
                await self._close(connection, dropped=connection.invalidated)
                raise
            self._free.append(connection)

    def connect(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self._held()

    async def _close(self, connection: AsyncConnection, *, dropped: bool = False) -> None:
        """Return `connection` to the pool. If the database `dropped` it (a restart drops
        them all), the idle ones are invalidated too: the retry must not take another dead
        one, and the pool opens fresh connections in their place."""
        if dropped:
            idle, self._free = self._free, []
            for other in idle:
                await self._invalidate(other)
        try:
            await connection.close()
        except Exception as error:  # already broken: the pool has let it go
            log.debug(
                "closing a read connection failed", extra={"error_type": type(error).__name__}
            )

    async def _invalidate(self, connection: AsyncConnection) -> None:
        try:
            await connection.invalidate()
        except Exception as error:  # a dropped connection may fail even to be let go
            log.debug(
                "invalidating a read connection failed", extra={"error_type": type(error).__name__}
            )
        await self._close(connection)

    async def close(self) -> None:
        """Return the idle connections to the pool and close the engine (at stop)."""
        free, self._free = self._free, []
        for connection in free:
            await self._close(connection)
        await self.engine.dispose()


def read_connections(runtime: ServiceRuntime, *, pool_size: int = READ_POOL_SIZE) -> Reads:
    """The public reads' connections: held (PostgreSQL) or the service's engine (SQLite)."""
    if is_sqlite(runtime.database_url):
        return runtime.engine
    engine = read_engine(runtime, pool_size=pool_size, close_on_stop=False)
    held = HeldConnections(engine, pool_size)
    runtime.close_on_stop("public read connections", held.close)
    return held


async def retry_once_on_disconnect(run: Callable[[], Awaitable[T]]) -> T:
    """`run()`, again once if its connection had been dropped by the database."""
    try:
        return await run()
    except sa.exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return await run()
