"""Database engines and migrations: SQLite by default, PostgreSQL when a URL names it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

import orjson
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from servicekit.waiting import within

# orjson for JSON columns: the standard library encoder dominated bulk imports.
_JSON_CODEC: dict[str, Any] = {
    "json_serializer": lambda value: orjson.dumps(value).decode(),
    "json_deserializer": orjson.loads,
}


def is_sqlite(url: str) -> bool:
    """Whether the URL names an SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine with the settings this platform relies on.

    SQLite runs in WAL mode with a busy timeout, so the CLI can import into a service's
    database while the running platform's outbox relay reads it.
    """
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **_JSON_CODEC)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted and overwritten rows are zeroed on disk (main file and WAL), so a
            # copy of the files does not hold what was erased (docs/security.md).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # asyncpg prepares statements, and PostgreSQL switches a prepared statement to a
        # generic plan after five runs. Planned while a table was still empty, that plan
        # is a sequential scan, kept until the next ANALYZE: measured here, fiches'
        # batch lookups fell to ~125 events/s at 140,000 fiches. Custom plans cost a
        # little planning per batch query and always use the indexes.
        connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
        **_JSON_CODEC,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """A moment read back from a `DateTime(timezone=True)` column, time-zone aware.

    PostgreSQL returns it aware; SQLite returns it naive. Every moment the platform stores
    is UTC, so a naive one is UTC.
    """
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


async def ping(engine: AsyncEngine, timeout_s: float = 2.0) -> None:
    """Raise unless the database answers a trivial query within the timeout."""

    async def _select_one() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    await within(_select_one(), timeout_s)


#: The shared messaging tables' migrations, a branch of every service's history.
MESSAGING_MIGRATIONS = "servicekit.messaging.migrations"


def alembic_config(migrations_package: str, connection: Connection | None = None) -> Any:
    from importlib import resources

    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files(migrations_package)))
    # Two branches: the service's own history and the shared messaging tables'
    # (servicekit.messaging.migrations).
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations",
        os.pathsep.join(
            str(resources.files(package) / "versions")
            for package in (migrations_package, MESSAGING_MIGRATIONS)
        ),
    )
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@dataclass(frozen=True)
class MigrationStatus:
    """Where a service's database stands against this release's migrations."""

    to_apply: tuple[str, ...] = ()
    """Revisions this release has and the database has not, oldest first."""
    unknown: tuple[str, ...] = ()
    """Revisions the database is at that this release does not know (a newer release's)."""
    problem: str | None = None
    """Why this release cannot run on that newer database (None: it can)."""

    @property
    def summary(self) -> str:
        if self.problem:
            return f"refused: {self.problem}"
        if self.unknown:
            return (
                f"at {', '.join(self.unknown)}, a newer release's migration: this release "
                "runs on it as it is"
            )
        if self.to_apply:
            return f"{len(self.to_apply)} migration(s) to apply: {', '.join(self.to_apply)}"
        return "at the newest migration"


async def migration_status(
    engine: AsyncEngine, migrations_package: str, tables: MetaData | None = None
) -> MigrationStatus:
    """What `upgrade_database` would find, without changing anything."""
    from servicekit.migration_heads import migration_heads, stored_heads

    heads = migration_heads((migrations_package, MESSAGING_MIGRATIONS))
    if heads is not None and await stored_heads(engine) == heads:
        return MigrationStatus()
    async with engine.connect() as connection:
        return await connection.run_sync(_status, migrations_package, tables)


def _status(connection: Connection, migrations_package: str, tables: MetaData | None) -> Any:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from servicekit.newer_schema import newer_schema_problem, unknown_revisions

    script = ScriptDirectory.from_config(alembic_config(migrations_package, connection))
    stored = MigrationContext.configure(connection).get_current_heads()
    unknown = unknown_revisions(script, stored)
    if unknown:
        problem = newer_schema_problem(connection, unknown, tables)
        return MigrationStatus(unknown=tuple(unknown), problem=problem)
    applied: set[str] = set()
    for revision in stored:
        applied |= {r.revision for r in script.iterate_revisions(revision, "base")}
    oldest_first = [r.revision for r in reversed(list(script.walk_revisions()))]
    return MigrationStatus(to_apply=tuple(r for r in oldest_first if r not in applied))


async def upgrade_database(
    engine: AsyncEngine, migrations_package: str, tables: MetaData | None = None
) -> MigrationStatus:
    """Apply the service's Alembic migrations up to their heads (safe to run again); the
    status the database was in.

    A database already at its heads is told so without loading Alembic
    (`servicekit.migration_heads`). A database a newer release has migrated is used as it
    is when it holds every table and column of `tables` (`servicekit.newer_schema`: the
    previous release's pods during a rollout, every pod after a rollback)."""
    from servicekit.migration_heads import migration_heads, stored_heads

    heads = migration_heads((migrations_package, MESSAGING_MIGRATIONS))
    if heads is not None and await stored_heads(engine) == heads:
        return MigrationStatus()
    from alembic import command

    from servicekit.newer_schema import run_on_newer_schema

    def _upgrade(connection: Connection) -> MigrationStatus:
        status: MigrationStatus = _status(connection, migrations_package, tables)
        if status.unknown:
            run_on_newer_schema(connection, list(status.unknown), tables)
        elif status.to_apply:
            command.upgrade(alembic_config(migrations_package, connection), "heads")
        return status

    async with engine.begin() as connection:
        return await connection.run_sync(_upgrade)
