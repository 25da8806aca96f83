"""Alembic environment of invitations (its own database, its own tables)."""

from invitations.adapters.tables import metadata
from servicekit.migrations_env import run_migrations

run_migrations(metadata)
