"""A pod of the previous release starts on a database a newer release has migrated.

During a rollout the migration Job runs first, and a previous-release pod that starts
afterwards (a restart, a rescheduled pod) finds revisions it does not know; after a
rollback every pod does. It runs on the database as it is when every table and column its
code declares is there, and refuses, naming what is missing, when they are not."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from directory.config import DirectorySettings
from directory.entrypoints.app import build_component
from servicekit.newer_schema import SchemaTooNew
from servicekit.settings import KafkaSettings, PlatformSettings
from skaart.cli import app

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


def _directory_revisions() -> tuple[set[str], str]:
    """Every revision a fresh directory database gets (its own and the shared messaging
    branch's), and the head of its own."""
    from alembic.script import ScriptDirectory

    from servicekit.database import alembic_config

    script = ScriptDirectory.from_config(alembic_config("directory.migrations"))
    (head,) = [h for h in script.get_heads() if not h.startswith("messaging")]
    return {r.revision for r in script.walk_revisions()}, str(head)


def test_skaart_migrate_check_says_where_each_database_stands_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`skaart migrate --check`, as a platform team runs it before a rollback: exit 1 while
    a database needs migrating, 0 once it is current or a newer one this release runs on."""
    monkeypatch.setenv("SKAART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")  # no wrapping of the lines asserted on
    url = f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}"
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    cli = CliRunner()

    fresh = cli.invoke(app, ["migrate", "directory", "--check"])
    assert fresh.exit_code == 1
    pending = re.search(r"directory: (\d+) migration\(s\) to apply: (.+)", fresh.output)
    assert pending is not None, fresh.output
    listed = pending.group(2).split(", ")
    assert int(pending.group(1)) == len(listed) and listed[0] == "0001", fresh.output
    every_revision, newest = _directory_revisions()
    assert set(listed) == every_revision and listed[-1] == newest, fresh.output
    assert cli.invoke(app, ["migrate", "directory", "--check"]).exit_code == 1, "unchanged"

    migrated = cli.invoke(app, ["migrate", "directory"])
    assert migrated.exit_code == 0 and "directory: migrated (0001, " in migrated.output
    current = cli.invoke(app, ["migrate", "directory", "--check"])
    assert current.exit_code == 0 and "directory: at the newest migration" in current.output

    async def stamp_newer() -> None:
        runtime = await _directory_as_deployed(url, tmp_path)
        try:
            await _as_a_newer_release_left_it(runtime)
        finally:
            await runtime.engine.dispose()

    asyncio.run(stamp_newer())
    newer = cli.invoke(app, ["migrate", "directory", "--check"])
    assert newer.exit_code == 0
    assert f"directory: at {NEWER}, a newer release's migration" in newer.output


def test_skaart_migrate_refuses_a_newer_database_without_what_this_release_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKAART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "300")
    url = f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}"
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)

    async def stamp_newer_without_prefixes() -> None:
        runtime = await _directory_as_deployed(url, tmp_path)
        try:
            await _as_a_newer_release_left_it(runtime, "DROP TABLE search_prefixes")
        finally:
            await runtime.engine.dispose()

    asyncio.run(stamp_newer_without_prefixes())
    for command in (["migrate", "directory"], ["migrate", "directory", "--check"]):
        refused = CliRunner().invoke(app, command)
        assert refused.exit_code == 1, refused.output
        assert "directory: refused: the database is at migration" in refused.output
        assert "table search_prefixes" in refused.output
