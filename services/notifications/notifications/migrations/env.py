"""Alembic environment of notifications (its own database, its own tables)."""

from notifications.adapters.tables import metadata
from servicekit.migrations_env import run_migrations

run_migrations(metadata)
