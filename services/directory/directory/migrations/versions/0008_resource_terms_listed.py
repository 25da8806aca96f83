"""directory: a resource's row lists its terms; standard_terms loses its index by resource.

The projection deletes a resource's term rows by their whole primary key, from the terms
its row lists (`standard_resources.terms`, one per line), as it deletes name prefixes
(migration 0006). Keeping the index (standard, type, id, term) up was 44% of writing the
term rows of a 100,000-event catch-up inside PostgreSQL (4.6 s of them against 2.6 s
without it, docs/benchmarks.md). A name word of one or two letters checked per resource
reads that list instead of the index.

A directory of the release before that still runs while this one rolls out fails to store
a resource (the column has no default) and its batch is redelivered: nothing is lost, and
no resource is left with a list that does not match its term rows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_LISTED_ON_POSTGRESQL = """
UPDATE standard_resources AS r SET terms = t.terms
FROM (
    SELECT standard, type, id, string_agg(E'\\n' || term, '' ORDER BY term) AS terms
    FROM standard_terms GROUP BY standard, type, id
) AS t
WHERE r.standard = t.standard AND r.type = t.type AND r.id = t.id
"""

_LISTED_ON_SQLITE = """
UPDATE standard_resources SET terms = coalesce((
    SELECT group_concat(char(10) || term, '') FROM (
        SELECT term FROM standard_terms AS t
        WHERE t.standard = standard_resources.standard
          AND t.type = standard_resources.type
          AND t.id = standard_resources.id
        ORDER BY term
    )
), '')
"""


def upgrade() -> None:
    op.add_column(
        "standard_resources",
        sa.Column("terms", sa.Text(), nullable=False, server_default=""),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(_LISTED_ON_POSTGRESQL if postgresql else _LISTED_ON_SQLITE)
    # Without a default, the release before (still running until a rollout finishes)
    # cannot store a resource without listing its terms, which this release would trust
    # to delete them: its batch fails, is redelivered, and the new release applies it.
    with op.batch_alter_table("standard_resources") as batch:
        batch.alter_column("terms", server_default=None, existing_type=sa.Text())
    op.drop_index("ix_standard_terms_resource", table_name="standard_terms")


def downgrade() -> None:
    op.create_index(
        "ix_standard_terms_resource", "standard_terms", ["standard", "type", "id", "term"]
    )
    with op.batch_alter_table("standard_resources") as batch:
        batch.drop_column("terms")
