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

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from directory.adapters.read_engine import READ_POOL_SIZE, read_engine
from servicekit.runtime import ServiceRuntime
from tests.support.infrastructure import admin_postgres_url, fresh_postgres_database


@dataclass
class RuntimeStandIn:
    """What `read_engine` uses of a service runtime."""

    database_url: str
    closers: list[Any] = field(default_factory=list)

    def close_on_stop(self, _name: str, close: Any) -> None:
        self.closers.append(close)


@pytest.fixture
async def reads() -> AsyncIterator[AsyncEngine]:
    admin_url = admin_postgres_url()
    if admin_url is None:
        pytest.skip("PostgreSQL not reachable: the read engine is PostgreSQL's only")
    async with fresh_postgres_database(admin_url) as url:
        runtime = RuntimeStandIn(url)
        engine = read_engine(cast(ServiceRuntime, runtime))
        try:
            yield engine
        finally:
            for close in runtime.closers:
                await close()


async def test_more_concurrent_reads_than_connections_reuse_the_same_connections(
    reads: AsyncEngine,
) -> None:
    opened: list[int] = []
    sa.event.listen(reads.sync_engine, "connect", lambda *_: opened.append(1))

    async def one_read() -> None:
        async with reads.connect() as connection:
            await connection.execute(sa.text("SELECT pg_sleep(0.005)"))

    for _ in range(3):
        await asyncio.gather(*(one_read() for _ in range(READ_POOL_SIZE * 2 + 10)))

    assert len(opened) == READ_POOL_SIZE


async def test_a_read_connection_cannot_write(reads: AsyncEngine) -> None:
    async with reads.connect() as connection:
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
            await connection.execute(sa.text("CREATE TABLE written (id int)"))
