"""messaging: an index on the inbox by consumer, partition and offset (for pruning).

Revision ID: messaging_0002
Revises: messaging_0001
Create Date: 2026-11-29
"""

from alembic import op

from servicekit.messaging.tables import INBOX_PLACE_INDEX, INBOX_TABLE

revision = "messaging_0002"
down_revision = "messaging_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(INBOX_PLACE_INDEX, INBOX_TABLE, ["consumer", "topic", "partition", "offset"])


def downgrade() -> None:
    op.drop_index(INBOX_PLACE_INDEX, table_name=INBOX_TABLE)
