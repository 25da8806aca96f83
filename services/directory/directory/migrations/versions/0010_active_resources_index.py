"""directory: the resources indexed by activity, so a list without a term reads ids only.

An HSDS list without a filter (`/hsds/services`, the first request an agency makes) counts
every active record of its type and reads a page of them in id order. Without a term to
start from, both walked the primary key and read each record's row to test `active`:
0.5 s for `/hsds/services` at 300,000 providers (196,805 services), 1.5 s for its page
1,000 of 200, whose offset read every record before it, and 74.5 s for all of them as
NDJSON since a `modified_after` long ago. On (standard, type, active, id), with
`last_updated` included on PostgreSQL, the count and the page's ids are index-only
(adapters/resource_statements.py); see docs/benchmarks.md, "2026-12-02 midday".

The place index (a near search's points, an HSDS `proximity`) includes `active` on
PostgreSQL, built beside the old one, which is then dropped: a count within a circle of
the active services at locations read each one's row (7.7 ms for 10 km around Brussels,
3.7 ms index-only).

Building them takes a SHARE lock on `standard_resources`: reads go on, the projection's
writes wait until they are built (5.3 to 25.8 s each on the benchmark's 1,405,147
resources); dropping the old place index then waits for the reads under way and holds the
next ones for that moment.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


_PLACE = ["standard", "type", "latitude", "longitude", "id"]


def _place_index_including(columns: list[str]) -> None:
    """The place index again, with `columns` included (PostgreSQL; SQLite has no INCLUDE)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        "ix_standard_resources_place_new",
        "standard_resources",
        _PLACE,
        postgresql_include=columns,
    )
    op.drop_index("ix_standard_resources_place", table_name="standard_resources")
    op.execute("ALTER INDEX ix_standard_resources_place_new RENAME TO ix_standard_resources_place")


def upgrade() -> None:
    op.create_index(
        "ix_standard_resources_active",
        "standard_resources",
        ["standard", "type", "active", "id"],
        postgresql_include=["last_updated"],
    )
    _place_index_including(["active"])


def downgrade() -> None:
    _place_index_including([])
    op.drop_index("ix_standard_resources_active", table_name="standard_resources")
