"""fiches: public search read model, users' exports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Byte-order comparison for prefix ranges on a btree, whatever the database's collation.
_TERM = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")
_SORT = sa.String(400).with_variant(sa.String(400, collation="C"), "postgresql")


def upgrade() -> None:
    create_search_tables()
    _create_exports_table()


def create_search_tables() -> None:
    """The public search tables (dropped by 0005; its downgrade recreates them here)."""
    op.create_table(
        "search_providers",
        sa.Column("fiche_id", sa.String(36), primary_key=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("official_first_name", sa.String(200), nullable=False),
        sa.Column("official_last_name", sa.String(200), nullable=False),
        sa.Column("preferred_name", sa.String(200), nullable=True),
        sa.Column("professions", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "search_practices",
        sa.Column("practice_id", sa.String(36), primary_key=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "search_offers",
        sa.Column("practice_id", sa.String(36), primary_key=True),
        sa.Column("provider_fiche_id", sa.String(36), primary_key=True),
        sa.Column("profession", sa.String(60), primary_key=True),
    )
    op.create_index("ix_search_offers_provider", "search_offers", ["provider_fiche_id"])
    op.create_table(
        "search_documents",
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("fiche_id", sa.String(36), primary_key=True),
        sa.Column("sort_key", _SORT, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_search_documents_order", "search_documents", ["sort_key", "kind", "fiche_id"]
    )
    op.create_table(
        "search_terms",
        sa.Column("term", _TERM, primary_key=True),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("fiche_id", sa.String(36), primary_key=True),
        sa.Column("sort_key", _SORT, nullable=False),
    )
    op.create_index(
        "ix_search_terms_order", "search_terms", ["term", "sort_key", "kind", "fiche_id"]
    )
    op.create_index("ix_search_terms_fiche", "search_terms", ["kind", "fiche_id", "term"])


def _create_exports_table() -> None:
    op.create_table(
        "fiche_exports",
        sa.Column("export_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("professional_id", sa.String(36), nullable=True),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("csv_content", sa.Text(), nullable=True),
        sa.Column("json_content", sa.Text(), nullable=True),
        sa.Column("fiche_count", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
    )
    op.create_index("ix_fiche_exports_user_id", "fiche_exports", ["user_id"])
    op.create_index("ix_fiche_exports_status", "fiche_exports", ["status"])


def downgrade() -> None:
    op.drop_table("fiche_exports")
    op.drop_table("search_terms")
    op.drop_table("search_documents")
    op.drop_table("search_offers")
    op.drop_table("search_practices")
    op.drop_table("search_providers")
