"""directory: name prefixes of 3 to 7 characters in their own tables, from the name terms.

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

TERM = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")
SORT = sa.String(400).with_variant(sa.String(400, collation="C"), "postgresql")
SIZES = range(3, 8)


def upgrade() -> None:
    op.create_table(
        "search_prefixes",
        sa.Column("prefix", TERM, primary_key=True),
        sa.Column("sort_key", SORT, primary_key=True),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("fiche_id", sa.String(36), primary_key=True),
        sa.Column("term", TERM, primary_key=True),
        sa.ForeignKeyConstraint(
            ["term", "kind", "fiche_id"],
            ["search_terms.term", "search_terms.kind", "search_terms.fiche_id"],
            name="fk_search_prefixes_term",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_search_prefixes_term", "search_prefixes", ["term", "kind", "fiche_id"])
    op.create_table(
        "standard_prefixes",
        sa.Column("standard", sa.String(10), primary_key=True),
        sa.Column("type", sa.String(40), primary_key=True),
        sa.Column("prefix", TERM, primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("term", TERM, primary_key=True),
        sa.ForeignKeyConstraint(
            ["standard", "type", "term", "id"],
            [
                "standard_terms.standard",
                "standard_terms.type",
                "standard_terms.term",
                "standard_terms.id",
            ],
            name="fk_standard_prefixes_term",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_standard_prefixes_term", "standard_prefixes", ["standard", "type", "term", "id"]
    )
    # The prefixes of the name terms already stored (`n:peeters` -> `n:pee` ... `n:peeter`).
    for size in SIZES:
        op.execute(
            "INSERT INTO search_prefixes (prefix, sort_key, kind, fiche_id, term) "
            f"SELECT 'n:' || substr(term, 3, {size}), sort_key, kind, fiche_id, term "
            f"FROM search_terms WHERE term LIKE 'n:%' AND length(term) >= {size + 2}"
        )
        op.execute(
            "INSERT INTO standard_prefixes (standard, type, prefix, id, term) "
            f"SELECT standard, type, 'n:' || substr(term, 3, {size}), id, term "
            f"FROM standard_terms WHERE term LIKE 'n:%' AND length(term) >= {size + 2}"
        )


def downgrade() -> None:
    op.drop_table("standard_prefixes")
    op.drop_table("search_prefixes")
