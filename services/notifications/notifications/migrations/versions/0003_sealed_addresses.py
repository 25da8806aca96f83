"""notifications: room for sealed addresses (servicekit.sealing) in the address book and
deliveries, and the address book's keyed address digest.

Existing clear addresses and links are sealed by notifications itself when it starts
(`seal_at_rest`), since only the running service holds the key.

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

SEALED_LENGTH = 1024


def upgrade() -> None:
    # A keyed digest of the address, to find a user by the address a mail goes to.
    op.add_column("address_book", sa.Column("email_digest", sa.String(100), nullable=True))
    op.create_index("ix_address_book_email_digest", "address_book", ["email_digest"])
    # SQLite does not enforce VARCHAR lengths; PostgreSQL does.
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column("address_book", "email", type_=sa.String(SEALED_LENGTH))
    op.alter_column("deliveries", "recipient_email", type_=sa.String(SEALED_LENGTH))


def downgrade() -> None:
    op.drop_index("ix_address_book_email_digest", table_name="address_book")
    op.drop_column("address_book", "email_digest")
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column("address_book", "email", type_=sa.String(320))
    op.alter_column("deliveries", "recipient_email", type_=sa.String(320))
