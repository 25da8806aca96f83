"""Where the tests' broker and databases come from.

Order, as the architecture brief says: what the environment names
(KAFKA_BOOTSTRAP_SERVERS, SKAART_TEST_POSTGRES_URL); containers through testcontainers
when a Docker engine answers; otherwise the embedded broker and the PostgreSQL on
127.0.0.1 when it answers. Tests that only mean something on PostgreSQL are skipped
with that reason when none is found (CI always has one).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def docker_answers() -> bool:
    """True when a Docker engine responds (a developer's laptop, not CI here)."""
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections there."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def admin_postgres_url() -> str | None:
    """A PostgreSQL server URL (database `postgres`) tests may create databases on."""
    configured = os.environ.get("SKAART_TEST_POSTGRES_URL")
    if configured:
        return configured
    if port_open("127.0.0.1", 5432):
        return LOCAL_POSTGRES
    return None


@asynccontextmanager
async def fresh_postgres_database(admin_url: str) -> AsyncIterator[str]:
    """Create an empty database for one test and drop it afterwards; yields its async URL."""
    import asyncpg

    name = f"skaart_test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def wait_for(condition, timeout_s: float = 60.0, interval_s: float = 0.02):  # type: ignore[no-untyped-def]
    """Poll an async condition until it returns a truthy value; returns that value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        value = await condition()
        if value:
            return value
        if loop.time() > deadline:
            raise TimeoutError(f"condition not met within {timeout_s}s (last value {value!r})")
        await asyncio.sleep(interval_s)
