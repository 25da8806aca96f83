"""Alembic environment of directory (its own database, its own tables)."""

from directory.adapters.tables import metadata
from servicekit.migrations_env import run_migrations

run_migrations(metadata)
