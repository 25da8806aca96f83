"""Alembic environment of identity (its own database, its own tables)."""

from identity.adapters.tables import metadata
from servicekit.migrations_env import run_migrations

run_migrations(metadata)
