"""fiches: practice fiches, offers, managers, history, requests, trusted signing keys.

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
    op.add_column("provider_fiches", sa.Column("own_draft", sa.JSON(), nullable=True))
    op.add_column("provider_fiches", sa.Column("own_published", sa.JSON(), nullable=True))
    op.add_column("provider_fiches", sa.Column("own_version", sa.Integer(), nullable=True))
    op.create_table(
        "practice_fiches",
        sa.Column("practice_id", sa.String(36), primary_key=True),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("draft_version", sa.Integer(), nullable=False),
        sa.Column("published_data", sa.JSON(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("search_name", sa.String(200), nullable=False),
        sa.Column("published_search_name", sa.String(200), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_practice_fiches_published", "practice_fiches", ["published"])
    op.create_index("ix_practice_fiches_search_name", "practice_fiches", ["search_name"])
    op.create_index(
        "ix_practice_fiches_published_search_name", "practice_fiches", ["published_search_name"]
    )
    op.create_table(
        "practice_offers",
        sa.Column("practice_id", sa.String(36), primary_key=True),
        sa.Column("professional_id", sa.String(36), primary_key=True),
        sa.Column("profession", sa.String(60), primary_key=True),
        sa.Column("provider_fiche_id", sa.String(36), nullable=False),
        sa.Column("in_draft", sa.Boolean(), nullable=False),
        sa.Column("in_published", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_practice_offers_provider_fiche_id", "practice_offers", ["provider_fiche_id"]
    )
    op.create_index("ix_practice_offers_professional", "practice_offers", ["professional_id"])
    op.create_table(
        "practice_managers",
        sa.Column("practice_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(100), primary_key=True),
        sa.Column("granted_by", sa.String(100), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_practice_managers_user_id", "practice_managers", ["user_id"])
    op.create_table(
        "fiche_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("fiche_type", sa.String(20), nullable=False),
        sa.Column("fiche_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_fields", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.UniqueConstraint("fiche_type", "fiche_id", "version", name="uq_fiche_history_version"),
    )
    op.create_table(
        "fiche_requests",
        sa.Column("request_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("fiche_type", sa.String(20), nullable=False),
        sa.Column("fiche_id", sa.String(36), nullable=False),
        sa.Column("fiche_name", sa.String(200), nullable=False),
        sa.Column("requester_user_id", sa.String(100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("comment", sa.String(2000), nullable=True),
    )
    op.create_index("ix_fiche_requests_kind", "fiche_requests", ["kind"])
    op.create_index("ix_fiche_requests_status", "fiche_requests", ["status"])
    op.create_index("ix_fiche_requests_fiche_id", "fiche_requests", ["fiche_id"])
    op.create_index("ix_fiche_requests_created_at", "fiche_requests", ["created_at"])
    create_signing_keys_table(op)


def downgrade() -> None:
    op.drop_table(SIGNING_KEYS_TABLE)
    op.drop_table("fiche_requests")
    op.drop_table("fiche_history")
    op.drop_table("practice_managers")
    op.drop_table("practice_offers")
    op.drop_table("practice_fiches")
    # Batch mode: SQLite rebuilds the table to drop a column.
    with op.batch_alter_table("provider_fiches") as batch:
        batch.drop_column("own_version")
        batch.drop_column("own_published")
        batch.drop_column("own_draft")
