"""directory: the name-prefix tables without their index by fiche and by resource.

The projection now deletes prefix rows by their whole primary key, cut from the term rows
it deletes (adapters/name_prefixes.py). Keeping those indexes up was about 25%
(search_prefixes) and 40% (standard_prefixes) of writing the rows, measured on their
rows of a 100,000-event catch-up (docs/benchmarks.md).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("search_prefixes") as batch:
        batch.drop_index("ix_search_prefixes_fiche")
    with op.batch_alter_table("standard_prefixes") as batch:
        batch.drop_index("ix_standard_prefixes_resource")


def downgrade() -> None:
    with op.batch_alter_table("standard_prefixes") as batch:
        batch.create_index("ix_standard_prefixes_resource", ["standard", "type", "id"])
    with op.batch_alter_table("search_prefixes") as batch:
        batch.create_index("ix_search_prefixes_fiche", ["kind", "fiche_id"])
