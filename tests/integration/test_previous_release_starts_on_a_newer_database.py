"""A pod of the previous release starts on a database a newer release has migrated.

During a rollout the migration Job runs first, and a previous-release pod that starts
afterwards (a restart, a rescheduled pod) finds revisions it does not know; after a
rollback every pod does. It runs on the database as it is when every table and column its
code declares is there, and refuses, naming what is missing, when they are not."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from directory.config import DirectorySettings
from directory.entrypoints.app import build_component
from servicekit.newer_schema import SchemaTooNew
from servicekit.settings import KafkaSettings, PlatformSettings

NEWER = "0999_of_a_newer_release"


async def _directory_as_deployed(url: str, tmp_path: Path) -> Any:
    """The directory's runtime as `skaart serve directory` builds it, on `url`."""
    settings = DirectorySettings(database_url=url)
    return build_component(PlatformSettings(data_dir=tmp_path), KafkaSettings(), settings).runtime


async def _as_a_newer_release_left_it(runtime: Any, *statements: str) -> None:
    """Migrated, then changed as a newer release's migration would, and stamped with it."""
    await runtime.migrate()
    async with runtime.engine.begin() as connection:
        current = await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        own = [row[0] for row in current if not row[0].startswith("messaging")]
        for statement in statements:
            await connection.execute(sa.text(statement))
        await connection.execute(
            sa.text("UPDATE alembic_version SET version_num = :newer WHERE version_num = :own"),
            {"newer": NEWER, "own": own[0]},
        )


async def test_it_runs_on_a_newer_schema_that_holds_what_it_uses(
    database_url_factory: Callable[[str], Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = await database_url_factory("directory")
    newer = await _directory_as_deployed(url, tmp_path)
    try:
        await _as_a_newer_release_left_it(
            newer,
            "CREATE TABLE added_by_the_newer_release (id INTEGER PRIMARY KEY)",
            "ALTER TABLE search_documents ADD COLUMN added_by_the_newer_release TEXT",
        )
    finally:
        await newer.engine.dispose()
    previous = await _directory_as_deployed(url, tmp_path)
    try:
        with caplog.at_level(logging.WARNING, logger="servicekit.newer_schema"):
            await previous.migrate()
        async with previous.engine.connect() as connection:
            stored = await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert NEWER in {row[0] for row in stored}, "left at the newer release's revision"
            # And its own tables answer as before.
            await connection.execute(sa.text("SELECT count(*) FROM search_documents"))
    finally:
        await previous.engine.dispose()
    warned = [r for r in caplog.records if r.name == "servicekit.newer_schema"]
    assert len(warned) == 1 and warned[0].database_revisions == [NEWER]  # type: ignore[attr-defined]


async def test_it_refuses_a_newer_schema_without_what_it_uses(
    database_url_factory: Callable[[str], Any], tmp_path: Path
) -> None:
    url = await database_url_factory("directory")
    newer = await _directory_as_deployed(url, tmp_path)
    try:
        await _as_a_newer_release_left_it(newer, "DROP TABLE search_prefixes")
    finally:
        await newer.engine.dispose()
    previous = await _directory_as_deployed(url, tmp_path)
    try:
        with pytest.raises(SchemaTooNew) as refused:
            await previous.migrate()
    finally:
        await previous.engine.dispose()
    assert NEWER in str(refused.value) and "table search_prefixes" in str(refused.value)
    assert "database URL" in str(refused.value)
