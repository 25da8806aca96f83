"""messaging: the outbox events the broker refused for good, moved aside by the relay.

Revision ID: messaging_0001
Revises:
Create Date: 2026-11-29
"""

from alembic import op

from servicekit.messaging.tables import create_refused_table, drop_refused_table

revision = "messaging_0001"
down_revision = None
branch_labels = ("messaging",)
# Every service's first revision is "0001" and creates the outbox this table sits beside.
depends_on = "0001"


def upgrade() -> None:
    create_refused_table(op)


def downgrade() -> None:
    drop_refused_table(op)
