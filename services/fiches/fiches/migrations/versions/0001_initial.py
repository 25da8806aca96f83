"""fiches: provider fiches, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from servicekit.messaging.tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_fiches",
        sa.Column("fiche_id", sa.String(36), primary_key=True),
        sa.Column("professional_id", sa.String(36), nullable=False, unique=True),
        sa.Column("official_last_name", sa.String(200), nullable=False),
        sa.Column("official_first_name", sa.String(200), nullable=False),
        sa.Column("search_name", sa.String(400), nullable=False),
        sa.Column("language", sa.String(10), nullable=True),
        sa.Column("professions", sa.JSON(), nullable=False),
        sa.Column("profession_codes", sa.String(400), nullable=False),
        sa.Column("practice_ban", sa.Boolean(), nullable=False),
        sa.Column("deceased", sa.Boolean(), nullable=False),
        sa.Column("may_practise", sa.Boolean(), nullable=False),
        sa.Column("registry_version", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("depublication_reason", sa.String(40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_provider_fiches_search_name", "provider_fiches", ["search_name"])
    op.create_index("ix_provider_fiches_published", "provider_fiches", ["published"])
    create_messaging_tables(op)


def downgrade() -> None:
    drop_messaging_tables(op)
    op.drop_table("provider_fiches")
