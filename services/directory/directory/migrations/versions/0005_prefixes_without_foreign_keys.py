"""directory: the name-prefix tables without foreign keys, indexed by what deletes them.

The projection now deletes a fiche's (a resource's) prefix rows where it deletes its
terms. The foreign keys' check on every inserted row was about 30% of writing those rows,
the largest write of a catch-up (docs/benchmarks.md).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("search_prefixes") as batch:
        batch.drop_constraint("fk_search_prefixes_term", type_="foreignkey")
        batch.drop_index("ix_search_prefixes_term")
        batch.create_index("ix_search_prefixes_fiche", ["kind", "fiche_id"])
    with op.batch_alter_table("standard_prefixes") as batch:
        batch.drop_constraint("fk_standard_prefixes_term", type_="foreignkey")
        batch.drop_index("ix_standard_prefixes_term")
        batch.create_index("ix_standard_prefixes_resource", ["standard", "type", "id"])


def downgrade() -> None:
    with op.batch_alter_table("standard_prefixes") as batch:
        batch.drop_index("ix_standard_prefixes_resource")
        batch.create_index("ix_standard_prefixes_term", ["standard", "type", "term", "id"])
        batch.create_foreign_key(
            "fk_standard_prefixes_term",
            "standard_terms",
            ["standard", "type", "term", "id"],
            ["standard", "type", "term", "id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("search_prefixes") as batch:
        batch.drop_index("ix_search_prefixes_fiche")
        batch.create_index("ix_search_prefixes_term", ["term", "kind", "fiche_id"])
        batch.create_foreign_key(
            "fk_search_prefixes_term",
            "search_terms",
            ["term", "kind", "fiche_id"],
            ["term", "kind", "fiche_id"],
            ondelete="CASCADE",
        )
