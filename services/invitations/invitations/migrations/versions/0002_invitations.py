"""invitations: managers view, invitations, trusted signing keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from servicekit.auth import SIGNING_KEYS_TABLE, create_signing_keys_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "practice_managers",
        sa.Column("practice_id", sa.String(64), primary_key=True),
        sa.Column("practice_name", sa.String(300), nullable=False),
        sa.Column("manager_user_ids", sa.JSON(), nullable=False),
        sa.Column("linked_professional_ids", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "invitations",
        sa.Column("invitation_id", sa.String(36), primary_key=True),
        sa.Column("practice_id", sa.String(64), nullable=False),
        sa.Column("inviter_user_id", sa.String(64), nullable=False),
        sa.Column("inviter_name", sa.String(300), nullable=False),
        sa.Column("profession", sa.String(60), nullable=True),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
        sa.Column("address_fingerprint", sa.String(64), nullable=False),
        sa.Column("sealed_address", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mails_sent", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by_user_id", sa.String(64), nullable=True),
        sa.Column("accepted_professional_id", sa.String(64), nullable=True),
        sa.Column("accepted_professions", sa.JSON(), nullable=True),
    )
    op.create_index("ix_invitations_practice_id", "invitations", ["practice_id"])
    op.create_index("ix_invitations_address_fingerprint", "invitations", ["address_fingerprint"])
    op.create_index("ix_invitations_status", "invitations", ["status"])
    op.create_index("ix_invitations_expires_at", "invitations", ["expires_at"])
    create_signing_keys_table(op)


def downgrade() -> None:
    op.drop_table(SIGNING_KEYS_TABLE)
    op.drop_table("invitations")
    op.drop_table("practice_managers")
