"""Every migration leaves a schema the previous release's pods keep working on, or says why not.

A rollout migrates first and replaces the pods afterwards (deploy/README.md), so for minutes
the previous release's code runs against each new migration's schema. For every service,
each revision is applied on its own to PostgreSQL (production's database) and the schema
before and after it compared (servicekit/schema_rollout.py). Each change the previous
release could fail on must be named in the migration, with the reason the rollout is safe
(`SAFE_IN_A_ROLLOUT_BECAUSE`) or what it needs (`ROLLOUT_REQUIRES`, which
docs/operations.md must list for the platform team). A name that matches no change fails
too, so the explanations stay true.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from servicekit.database import alembic_config, create_engine
from servicekit.schema_rollout import TableShape, changes_the_previous_release_notices, schema_shape
from servicekit.settings import KafkaSettings, PlatformSettings
from skaart.components import BUILDERS

OPERATIONS_GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _migrations_package(service: str, tmp_path: Path) -> tuple[str, Any]:
    built = BUILDERS[service](PlatformSettings(data_dir=tmp_path), KafkaSettings())
    return built.runtime.migrations_package, built.runtime.engine


def _each_revision_and_what_it_changes(
    connection: sa.Connection, package: str
) -> list[tuple[Any, list[str]]]:
    """Apply the revisions one by one, oldest first; each with the changes it made."""
    config = alembic_config(package, connection)
    revisions = list(ScriptDirectory.from_config(config).walk_revisions("base", "heads"))
    applied: list[tuple[Any, list[str]]] = []
    shape: dict[str, TableShape] = schema_shape(connection)
    for revision in reversed(revisions):
        command.upgrade(config, revision.revision)
        after = schema_shape(connection)
        applied.append((revision, changes_the_previous_release_notices(shape, after)))
        shape = after
    return applied


def _explained(module: Any) -> tuple[dict[str, str], dict[str, str]]:
    return (
        dict(getattr(module, "SAFE_IN_A_ROLLOUT_BECAUSE", {})),
        dict(getattr(module, "ROLLOUT_REQUIRES", {})),
    )


@pytest.mark.parametrize("service", sorted(BUILDERS))
async def test_each_migration_names_what_the_previous_release_would_run_into(
    service: str, postgresql_url: str, tmp_path: Path
) -> None:
    package, unused_engine = _migrations_package(service, tmp_path)
    await unused_engine.dispose()  # never connected: the test's own database is used
    engine = create_engine(postgresql_url)
    try:
        async with engine.begin() as connection:
            applied = await connection.run_sync(_each_revision_and_what_it_changes, package)
    finally:
        await engine.dispose()

    guide = OPERATIONS_GUIDE.read_text(encoding="utf-8")
    problems: list[str] = []
    for revision, changes in applied:
        safe, requires = _explained(revision.module)
        where = f"{service} migration {revision.revision} ({Path(revision.path).name})"
        problems += [
            f"{where}: {change!r} is not explained: add it to SAFE_IN_A_ROLLOUT_BECAUSE "
            "with the reason, or to ROLLOUT_REQUIRES with what the rollout needs"
            for change in changes
            if change not in safe and change not in requires
        ]
        problems += [
            f"{where}: explains {name!r}, which it does not change"
            for name in {**safe, **requires}
            if name not in changes
        ]
        if requires and f"`{service}` migration `{revision.revision}`" not in guide:
            problems.append(f"{where}: ROLLOUT_REQUIRES, yet docs/operations.md does not list it")
    assert problems == []


_BEFORE = [
    "CREATE TABLE kept (id INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL, "
    "label VARCHAR(20), note TEXT, counted SMALLINT, state VARCHAR(5) NOT NULL DEFAULT 'new', "
    "gone TEXT, pair_a TEXT, pair_b TEXT, UNIQUE (pair_a, pair_b))",
    "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
    "CREATE TABLE dropped (id INTEGER PRIMARY KEY)",
]
_MIGRATION = [
    "DROP TABLE dropped",
    "ALTER TABLE kept DROP COLUMN gone",
    "ALTER TABLE kept ALTER COLUMN code TYPE VARCHAR(5)",  # narrowed
    "ALTER TABLE kept ALTER COLUMN label TYPE VARCHAR(40)",  # widened: not a change
    "ALTER TABLE kept ALTER COLUMN counted TYPE BIGINT",  # widened: not a change
    "ALTER TABLE kept ALTER COLUMN note SET NOT NULL",
    "ALTER TABLE kept ALTER COLUMN state DROP DEFAULT",
    "ALTER TABLE kept ADD COLUMN required_now TEXT NOT NULL",
    "ALTER TABLE kept ADD COLUMN optional_now TEXT",  # nullable: not a change
    "ALTER TABLE kept ADD COLUMN defaulted_now TEXT NOT NULL DEFAULT ''",  # not a change
    "ALTER TABLE kept DROP CONSTRAINT kept_pair_a_pair_b_key",
    "CREATE UNIQUE INDEX kept_label ON kept (label)",
    "CREATE UNIQUE INDEX kept_id_label ON kept (id, label)",  # the key lies within: fine
    "ALTER TABLE kept ADD CONSTRAINT kept_parent FOREIGN KEY (counted) REFERENCES parent (id)",
    "ALTER TABLE kept ADD CONSTRAINT kept_positive CHECK (counted > 0)",
    "CREATE TABLE added (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",  # new: not a change
]


async def test_the_comparison_sees_each_change_the_previous_release_runs_into(
    postgresql_url: str,
) -> None:
    def before_and_after(connection: sa.Connection) -> list[str]:
        for statement in _BEFORE:
            connection.execute(sa.text(statement))
        before = schema_shape(connection)
        for statement in _MIGRATION:
            connection.execute(sa.text(statement))
        return changes_the_previous_release_notices(before, schema_shape(connection))

    engine = create_engine(postgresql_url)
    try:
        async with engine.begin() as connection:
            changes = await connection.run_sync(before_and_after)
    finally:
        await engine.dispose()
    assert changes == [
        "dropped: table dropped",
        "kept.code: type VARCHAR(10) became VARCHAR(5)",
        "kept.note: made required, without a default",
        "kept.required_now: column added, required and without a default",
        "kept.state: required, and its default dropped",
        "kept.gone: column dropped",
        "kept: unique (label) added",
        "kept: unique (pair_a, pair_b) dropped",
        "kept: foreign key (counted) references parent (id) added",
        "kept: check counted > 0 added",
    ]
