"""A service runtime that is built but never started (no broker needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from servicekit.runtime import ServiceRuntime
from servicekit.settings import KafkaSettings


@pytest.fixture
async def idle_runtime(tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    """fiches' runtime on an SQLite file, not started; its engine is disposed afterwards."""
    from fiches.adapters.tables import TABLES

    runtime = ServiceRuntime(
        name="fiches",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}",
        kafka=KafkaSettings(),
        tables=TABLES,
        migrations_package="fiches.migrations",
    )
    yield runtime
    await runtime.engine.dispose()
