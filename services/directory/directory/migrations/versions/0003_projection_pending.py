"""directory: fiches waiting to be rebuilt while the projection catches up.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_pending",
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("fiche_id", sa.String(36), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("projection_pending")
