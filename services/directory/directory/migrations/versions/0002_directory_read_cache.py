"""directory: the projection's generation (response cache invalidation), ids in the place index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_generation",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO projection_generation (id, generation) VALUES (1, 0)")
    # HSDS serves active records only; from now on an inactive record keeps no terms, so
    # an HSDS filter counts from the term index alone.
    op.execute(
        "DELETE FROM standard_terms WHERE standard = 'hsds' AND EXISTS ("
        "SELECT 1 FROM standard_resources r WHERE r.standard = standard_terms.standard "
        "AND r.type = standard_terms.type AND r.id = standard_terms.id AND NOT r.active)"
    )
    # A near search reads (point, id) of the resources in a box: with the id in the index
    # that is an index-only scan, and the content is read for one page only.
    op.drop_index("ix_standard_resources_place", table_name="standard_resources")
    op.create_index(
        "ix_standard_resources_place",
        "standard_resources",
        ["standard", "type", "latitude", "longitude", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_standard_resources_place", table_name="standard_resources")
    op.create_index(
        "ix_standard_resources_place",
        "standard_resources",
        ["standard", "type", "latitude", "longitude"],
    )
    op.drop_table("projection_generation")
