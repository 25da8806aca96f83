"""directory: HSDS name-prefix totals, kept beside the prefix rows.

An HSDS page's total for one name word is read from `standard_prefix_totals` instead of
counted over `standard_prefixes` (adapters/prefix_totals.py). The totals are counted here
from the prefix rows and marked right at the projection's generation
(`projection_generation.prefix_totals_at`).

On PostgreSQL the migration first takes the projection's lock (`one_writer`), so no
directory writes prefix rows between the count and the mark. A directory of the release
before, running until the rollout finishes, writes prefix rows without the totals and
raises the generation without the mark: pages count again (as before) until the next
writer of this release counts the totals again (adapters/prefix_totals.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PROJECTION_LOCK = 0x6469726563746F72
"""adapters/pending.py's `one_writer` key, frozen here as this revision uses it."""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({_PROJECTION_LOCK})")
        term_type: sa.types.TypeEngine[str] = sa.String(200, collation="C")
    else:
        term_type = sa.String(200)
    op.create_table(
        "standard_prefix_totals",
        sa.Column("standard", sa.String(10), primary_key=True),
        sa.Column("type", sa.String(40), primary_key=True),
        sa.Column("prefix", term_type, primary_key=True),
        sa.Column("total", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("projection_generation") as batch:
        batch.add_column(sa.Column("prefix_totals_at", sa.BigInteger(), nullable=True))
    op.execute(
        "INSERT INTO standard_prefix_totals (standard, type, prefix, total) "
        "SELECT standard, type, prefix, count(*) FROM (SELECT DISTINCT standard, type, prefix, id "
        "FROM standard_prefixes WHERE standard = 'hsds') AS records GROUP BY standard, type, prefix"
    )
    op.execute("UPDATE projection_generation SET prefix_totals_at = generation")


def downgrade() -> None:
    with op.batch_alter_table("projection_generation") as batch:
        batch.drop_column("prefix_totals_at")
    op.drop_table("standard_prefix_totals")
