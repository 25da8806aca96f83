"""directory: an index of the resources by activity, so a list without a term reads ids only.

An HSDS list without a filter (`/hsds/services`, the first request an agency makes) counts
every active record of its type and reads a page of them in id order. Without a term to
start from, both walked the primary key and read each record's row to test `active`:
0.5 s for `/hsds/services` at 300,000 providers (196,805 services), 1.5 s for its page
1,000 of 200, whose offset read every record before it, and 74.5 s for all of them as
NDJSON since a `modified_after` long ago. On (standard, type, active, id), with
`last_updated` included on PostgreSQL, the count and the page's ids are index-only
(adapters/resource_statements.py); see docs/benchmarks.md, "2026-12-02 midday".

Building it takes a SHARE lock on `standard_resources`: reads go on, the projection's
writes wait until it is built (5.3 to 25.8 s on the benchmark's 1,405,147 resources).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_standard_resources_active",
        "standard_resources",
        ["standard", "type", "active", "id"],
        postgresql_include=["last_updated"],
    )


def downgrade() -> None:
    op.drop_index("ix_standard_resources_active", table_name="standard_resources")
