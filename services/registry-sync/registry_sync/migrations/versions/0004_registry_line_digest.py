"""registry-sync: a keyed digest of each person's snapshot line.

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
    # Nullable and empty: the next import reads every line once and fills it in.
    with op.batch_alter_table("professionals") as batch:
        batch.add_column(sa.Column("line_digest", sa.LargeBinary(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("professionals") as batch:
        batch.drop_column("line_digest")
