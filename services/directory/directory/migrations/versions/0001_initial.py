"""directory: outbox and inbox, the public facts, practice places and the search index.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from servicekit.messaging.tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Byte-order comparison for prefix ranges on a btree, whatever the database's collation.
_TERM = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")
_SORT = sa.String(400).with_variant(sa.String(400, collation="C"), "postgresql")


def upgrade() -> None:
    create_messaging_tables(op)
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
        sa.Column("public_professions", sa.JSON(), nullable=False),
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
        "practice_places",
        sa.Column("practice_id", sa.String(36), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("precision", sa.String(20), nullable=False),
    )
    op.create_index(
        "ix_practice_places_latitude", "practice_places", ["latitude", "longitude"]
    )
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
    op.create_table(
        "standard_resources",
        sa.Column("standard", sa.String(10), primary_key=True),
        sa.Column("type", sa.String(40), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(36), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
    )
    op.create_index("ix_standard_resources_owner", "standard_resources", ["standard", "owner"])
    op.create_index(
        "ix_standard_resources_updated", "standard_resources", ["standard", "type", "last_updated"]
    )
    op.create_index(
        "ix_standard_resources_place",
        "standard_resources",
        ["standard", "type", "latitude", "longitude"],
    )
    op.create_table(
        "standard_terms",
        sa.Column("standard", sa.String(10), primary_key=True),
        sa.Column("type", sa.String(40), primary_key=True),
        sa.Column("term", _TERM, primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
    )
    op.create_index(
        "ix_standard_terms_resource", "standard_terms", ["standard", "type", "id", "term"]
    )


def downgrade() -> None:
    op.drop_table("standard_terms")
    op.drop_table("standard_resources")
    op.drop_table("search_terms")
    op.drop_table("search_documents")
    op.drop_table("practice_places")
    op.drop_table("search_offers")
    op.drop_table("search_practices")
    op.drop_table("search_providers")
    drop_messaging_tables(op)
