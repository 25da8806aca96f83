"""One active outbox relay per database, across processes, with takeover when it dies.

Two relays on one outbox publish every row twice: each reads the unpublished rows before
the other deleted them (on SQLite, readers do not wait for the writer). This happened when
`skaart registry import` published registry-sync's outbox while the platform's relay did.

The lock is held by the process, not written as data, so it is released when the holder
dies, however it dies, and a standby relay takes over at its next try:

- SQLite: an exclusive `flock` on a file next to the database file (`<db>.relay-lock`).
  The operating system releases it when the process ends; a kill -9 included.
- PostgreSQL: a session advisory lock, held by one connection kept for it. The server
  releases it when that connection ends (the process died, or the network dropped it).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import zlib
from pathlib import Path
from typing import IO, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)


class RelayLock(Protocol):
    """Leadership among the relays of one database."""

    async def acquire(self) -> bool:
        """Take the lock if free, or confirm it is still held; never waits for it."""
        ...

    async def release(self) -> None:
        """Give the lock up (a standby relay takes over at its next try)."""
        ...


class FileRelayLock:
    """An exclusive `flock` on a file beside the SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    async def acquire(self) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        except BaseException:
            handle.close()
            raise
        # For an operator wondering who publishes: the holder's process id.
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._file = handle
        return True

    async def release(self) -> None:
        if self._file is None:
            return
        handle, self._file = self._file, None
        with contextlib.suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


class AdvisoryRelayLock:
    """A PostgreSQL session advisory lock on a connection kept while it is held."""

    def __init__(self, engine: AsyncEngine, key: int) -> None:
        self._engine = engine
        self._key = key
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> bool:
        if self._connection is not None:
            try:
                # The lock lives as long as its connection: check that it still does.
                await self._connection.execute(sa.text("SELECT 1"))
                await self._connection.commit()
                return True
            except Exception:
                log.warning("the outbox relay lost its lock connection; trying again")
                await self._drop_connection()
        connection = await self._engine.connect()
        try:
            got_lock = await connection.scalar(sa.select(sa.func.pg_try_advisory_lock(self._key)))
            # Outside a transaction: the lock must not wait on a commit, and an idle
            # transaction would be held open for as long as this relay runs.
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        if not got_lock:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def release(self) -> None:
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        # Closed for good, not returned to the pool: ending the server session is what
        # surely releases its lock (a pooled connection would keep holding it).
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()


class InProcessRelayLock:
    """For an in-memory SQLite database, which only its own process can open."""

    async def acquire(self) -> bool:
        return True

    async def release(self) -> None:
        return None


def relay_lock_key(service: str) -> int:
    """The advisory-lock key of a service's relay (signed 32-bit, as PostgreSQL takes it)."""
    return zlib.crc32(f"outbox-relay-leader:{service}".encode()) - 2**31


def relay_lock_for(engine: AsyncEngine, service: str) -> RelayLock:
    """The relay lock suited to the engine's database."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return AdvisoryRelayLock(engine, relay_lock_key(service))
    database = url.database
    if not database or database == ":memory:":
        return InProcessRelayLock()
    return FileRelayLock(Path(f"{Path(database).resolve()}.relay-lock"))
