"""Alembic environment of registry-sync (its own database, its own tables)."""

from registry_sync.adapters.tables import metadata
from servicekit.migrations_env import run_migrations

run_migrations(metadata)
