"""identity: status changes read ahead of the in-order registry group.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_changes_ahead",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("professional_id", sa.String(64), nullable=False),
        sa.Column("source_version", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ix_registry_changes_ahead_professional_id",
        "registry_changes_ahead",
        ["professional_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_registry_changes_ahead_professional_id", "registry_changes_ahead")
    op.drop_table("registry_changes_ahead")
