"""identity: remember when each user's profile was announced on identity.profiles.v1.

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
    # Null for every existing user: identity announces them all once after the upgrade.
    op.add_column(
        "users", sa.Column("profile_announced_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("profile_announced_at")
