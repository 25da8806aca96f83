"""fiches: the platform's activated users (names, keyed address hashes) from identity.

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
        "known_users",
        sa.Column("user_id", sa.String(100), primary_key=True),
        sa.Column("display_name", sa.String(400), nullable=False),
        sa.Column("match_name", sa.String(400), nullable=False),
        sa.Column("email_lookup", sa.String(64), nullable=False),
        sa.Column("professional_id", sa.String(36), nullable=True),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_known_users_match_name", "known_users", ["match_name"])
    op.create_index("ix_known_users_email_lookup", "known_users", ["email_lookup"])


def downgrade() -> None:
    op.drop_table("known_users")
