"""Shared fixtures: a Kafka-protocol broker with the contracts' topics, and fresh databases."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from servicekit.messaging.kafka_clients import ensure_topics
from servicekit.settings import KafkaSettings
from tests.support.deadline import arm
from tests.support.infrastructure import admin_postgres_url, docker_answers, fresh_postgres_database

# An async test still running after this long is cancelled with a dump of where every task
# waits (tests/support/deadline.py); the slowest honest async test takes about 30 s.
ASYNC_TEST_DEADLINE_S = float(os.environ.get("SKAART_TEST_DEADLINE_S", "240"))


def pytest_configure(config: pytest.Config) -> None:
    """Forgets the terminal size pytest-xdist hands its workers as COLUMNS and LINES.

    A worker starts with COLUMNS=80 and LINES=24 in its environment. A rich Console made
    when its module is imported (skaart's command modules make theirs then) keeps a size it
    finds in the environment for good, so the command tests' own wider COLUMNS would not
    apply and the messages they assert on would wrap at 80 columns. Without these, each
    Console reads COLUMNS when it prints, as a command run from a shell does."""
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)


@pytest.fixture(autouse=True)
def _platform_log_handlers_left_behind() -> Iterator[None]:
    """Removes the platform's log handlers a test installed and left on the root logger.

    A `skaart` command run through typer's CliRunner configures logging
    (`servicekit.logging.configure_logging`) with the runner's stderr, which the runner
    closes afterwards: every later test that logged then printed "--- Logging error ---
    ValueError: I/O operation on closed file" into CI's output."""
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for handler in list(root.handlers):
        if handler not in before and getattr(handler, "_skaart", False):
            root.removeHandler(handler)


@pytest.fixture(autouse=True)
async def _async_test_deadline(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    test_function = inspect.unwrap(request.function)
    if not inspect.iscoroutinefunction(test_function):
        yield
        return
    handle = arm(asyncio.get_running_loop(), test_function.__code__, ASYNC_TEST_DEADLINE_S)
    try:
        yield
    finally:
        handle.cancel()


@pytest.fixture
async def kafka() -> AsyncIterator[KafkaSettings]:
    """A broker with every contract topic: the environment's, a container, or embedded.

    The embedded broker starts in ~50 ms, so each test gets its own: no test sees
    another's messages or consumer offsets.
    """
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        settings = KafkaSettings(bootstrap_servers=configured)
        await ensure_topics(settings)
        yield settings
        return
    if docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer() as container:
            settings = KafkaSettings(bootstrap_servers=container.get_bootstrap_server())
            await ensure_topics(settings)
            yield settings
        return
    from servicekit.embedded_broker import CONSUMER_TIMING, start_embedded_broker

    broker = await start_embedded_broker()
    try:
        settings = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers,
            enable_idempotence=False,
            handler_retry_backoff_s=0.05,
            # A group forms in 1.5 s instead of 5 s (see CONSUMER_TIMING).
            **CONSUMER_TIMING,
        )
        await ensure_topics(settings)
        yield settings
    finally:
        broker.stop()


DatabaseFactory = Callable[[str], "AsyncIterator[str]"]


@pytest.fixture
async def postgresql_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database, for what only production's database has."""
    admin_url = admin_postgres_url()
    if admin_url is None:
        pytest.skip("PostgreSQL not reachable: set SKAART_TEST_POSTGRES_URL (CI always has one)")
    async with fresh_postgres_database(admin_url) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[str], object]]:
    """`await make(service)` gives a fresh, empty database URL on the parametrised backend."""
    stack = AsyncExitStack()
    admin_url = None
    if request.param == "postgresql":
        admin_url = admin_postgres_url()
        if admin_url is None:
            pytest.skip(
                "PostgreSQL not reachable: set SKAART_TEST_POSTGRES_URL or run one on "
                "127.0.0.1:5432 (CI always does)"
            )

    async def make(service: str) -> str:
        if admin_url is None:
            return f"sqlite+aiosqlite:///{tmp_path / f'{service}.db'}"
        return await stack.enter_async_context(fresh_postgres_database(admin_url))

    try:
        yield make
    finally:
        await stack.aclose()
