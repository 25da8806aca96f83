"""The engine the public reads use: read-only, autocommit, no pre-ping (PostgreSQL).

A public read is one or a few SELECTs. Through the service's engine each also cost a
pre-ping, a BEGIN and a ROLLBACK: three extra round trips, about a fifth of the server's
busy time under load. This engine runs each statement on its own (autocommit) in a
read-only session and does not ping; a connection the database dropped (a restart) fails
one statement, which `retry_once_on_disconnect` runs again on a fresh connection.

SQLite has no server round trips to save: there the service's engine is used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from servicekit.database import is_sqlite
from servicekit.runtime import ServiceRuntime

T = TypeVar("T")


READ_POOL_SIZE = 20
"""Connections the public reads hold, all kept open. The pool used to hold 10 and open up
to 10 more under load, closing each extra one when it came back: at 50 concurrent
searches it kept connecting to PostgreSQL (a new backend process, and its TLS attempt,
each time). Kept open, the same questions were answered at 1,019-1,054 instead of
820-943 searches/s (bench/fiches_search.py, 30,000 providers, no response cache)."""


def read_engine(runtime: ServiceRuntime, *, pool_size: int = READ_POOL_SIZE) -> AsyncEngine:
    """The public reads' engine; disposed when the service stops."""
    if is_sqlite(runtime.database_url):
        return runtime.engine
    engine = create_async_engine(
        runtime.database_url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        isolation_level="AUTOCOMMIT",
        connect_args={
            "server_settings": {
                # As the service's engine: custom plans always use the indexes.
                "plan_cache_mode": "force_custom_plan",
                "default_transaction_read_only": "on",
            }
        },
        json_serializer=lambda value: orjson.dumps(value).decode(),
        json_deserializer=orjson.loads,
    )
    runtime.close_on_stop("public read engine", engine.dispose)
    return engine


async def retry_once_on_disconnect(run: Callable[[], Awaitable[T]]) -> T:
    """`run()`, again once if its connection had been dropped by the database."""
    try:
        return await run()
    except sa.exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return await run()
