"""Starting on a database that a newer release has already migrated.

A rollout migrates first and replaces the pods afterwards, so a pod of the previous release
that starts meanwhile (a restart, a rescheduled or added pod) finds the database at a
revision its code does not know; so does every pod after a rollback. Alembic refuses such
a database ("Can't locate revision"), which kept those pods from starting: a rollback was
impossible without a downgrade. Every migration leaves a schema the previous release
works on (tests/integration/test_migrations_keep_the_previous_release_working.py), so the
service runs on it as it is, without migrating, once it has checked that every table and
column its code declares is there. A database without them (the wrong database, or a
release more than one step ahead that dropped what this code uses) is refused, with what is
missing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from alembic.util import CommandError

log = logging.getLogger(__name__)


class SchemaTooNew(RuntimeError):
    """The database is at revisions this release does not know, and lacks what it uses."""


def unknown_revisions(script: Any, stored: Iterable[str]) -> list[str]:
    """The stored revisions that `script` (an Alembic ScriptDirectory) does not know."""
    unknown = []
    for revision in stored:
        try:
            known = script.get_revision(revision)
        except CommandError:  # what Alembic raises for a revision it cannot find
            known = None
        if known is None:
            unknown.append(revision)
    return sorted(unknown)


def run_on_newer_schema(
    connection: sa.Connection, unknown: list[str], metadata: sa.MetaData | None
) -> None:
    """Accept the database as it is when it holds every table and column of `metadata`;
    raise SchemaTooNew naming what it lacks otherwise (or when there is no metadata to
    check against)."""
    problem = newer_schema_problem(connection, unknown, metadata)
    if problem:
        raise SchemaTooNew(problem)
    log.warning(
        "the database is at a migration this release does not know; running on it as it is "
        "(the previous release during a rollout, or a rollback)",
        extra={"database_revisions": unknown},
    )


def newer_schema_problem(
    connection: sa.Connection, unknown: list[str], metadata: sa.MetaData | None
) -> str | None:
    """Why this release cannot run on a database at `unknown` revisions (None: it can)."""
    if metadata is None:
        return (
            f"the database is at migration {', '.join(unknown)}, which this release does not "
            "know: run a release that knows it (or the newest one)"
        )
    missing = _missing(connection, metadata)
    if not missing:
        return None
    return (
        f"the database is at migration {', '.join(unknown)}, which this release does not "
        f"know, and lacks what this release uses ({'; '.join(missing)}). Check that the "
        "database URL names this service's database; otherwise run the release that "
        "migrated it, or the newest one (docs/operations.md, 'Migrations and rollouts')"
    )


def _missing(connection: sa.Connection, metadata: sa.MetaData) -> list[str]:
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    missing = []
    for table in metadata.sorted_tables:
        if table.name not in present:
            missing.append(f"table {table.name}")
            continue
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        missing.extend(
            f"column {table.name}.{column.name}"
            for column in table.columns
            if column.name not in columns
        )
    return missing
