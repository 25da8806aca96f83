"""A database at its newest migrations is told so without loading Alembic.

`migration_heads` reads the heads from the migration files; it must agree with Alembic for
every service, answer None for a file it cannot read, and `upgrade_database` must still run
Alembic whenever the database is not exactly at those heads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from servicekit.database import (
    MESSAGING_MIGRATIONS,
    alembic_config,
    create_engine,
    upgrade_database,
)
from servicekit.migration_heads import migration_heads

SERVICES = (
    "directory.migrations",
    "fiches.migrations",
    "identity.migrations",
    "invitations.migrations",
    "notifications.migrations",
    "registry_sync.migrations",
)


def alembic_heads(package: str) -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config(package)).get_heads())


@pytest.mark.parametrize("package", SERVICES)
def test_the_heads_read_from_the_files_are_alembics(package: str) -> None:
    assert migration_heads((package, MESSAGING_MIGRATIONS)) == alembic_heads(package)


def _migrations(root: Path, name: str, scripts: dict[str, str]) -> str:
    versions = root / name / "versions"
    versions.mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    (versions / "__init__.py").write_text("")
    for file, source in scripts.items():
        (versions / file).write_text(source)
    return name


@pytest.mark.parametrize(
    "scripts",
    [
        {"0001.py": 'revision = "0001"\ndown_revision = None\n', "0002.py": "x = 1\n"},
        {"0001.py": 'revision = "0001"\ndown_revision = compute()\n'},
        {"0001.py": 'revision = "0001"\nrevision = "0002"\ndown_revision = None\n'},
    ],
    ids=["no revision line", "not a literal", "two revision lines"],
)
def test_a_migration_file_it_cannot_read_leaves_the_answer_to_alembic(
    scripts: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    package = _migrations(tmp_path, f"unreadable_{abs(hash(str(scripts)))}", scripts)
    assert migration_heads([package]) is None


def test_merged_branches_have_one_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    package = _migrations(
        tmp_path,
        "merged_branches",
        {
            "a.py": 'revision = "a"\ndown_revision = None\n',
            "b.py": 'revision: str = "b"\ndown_revision: str | None = "a"\n',
            "c.py": 'revision = "c"\ndown_revision = "a"\n',
            "m.py": 'revision = "m"\ndown_revision = ("b", "c")\n',
        },
    )
    assert migration_heads([package]) == frozenset({"m"})


async def test_alembic_runs_only_when_the_database_is_not_at_its_heads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic import command

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")
    asked: list[str] = []
    upgrade = command.upgrade

    def recorded(config: Config, revision: str) -> None:
        asked.append(revision)
        if len(asked) == 1:
            upgrade(config, revision)

    monkeypatch.setattr(command, "upgrade", recorded)
    try:
        await upgrade_database(engine, "registry_sync.migrations")  # a new database
        await upgrade_database(engine, "registry_sync.migrations")  # at its heads
        assert asked == ["heads"]
        async with engine.begin() as connection:  # as if a newer migration had come
            await connection.execute(
                text(
                    "UPDATE alembic_version SET version_num = '0001' "
                    "WHERE version_num NOT LIKE 'messaging%'"
                )
            )
        await upgrade_database(engine, "registry_sync.migrations")
        assert asked == ["heads", "heads"]
    finally:
        await engine.dispose()
