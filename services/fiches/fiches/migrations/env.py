"""Alembic environment of fiches (its own database, its own tables)."""

from fiches.adapters.tables import metadata
from servicekit.migrations_env import run_migrations

run_migrations(metadata)
