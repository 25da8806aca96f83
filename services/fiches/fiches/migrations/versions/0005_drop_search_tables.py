"""fiches: drop the public search tables; the directory service owns the public read side.

fiches stopped writing and reading these tables when the search moved to the directory,
which builds its own from the public topics. Left in place, they only
mislead whoever reads the schema.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import importlib

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SEARCH_TABLES = (
    "search_terms",
    "search_documents",
    "search_offers",
    "search_practices",
    "search_providers",
)

# A fiches pod of a release from before the public search moved to the directory (a13cc2f)
# still writes these tables: that rollout needs those pods stopped first
# (tests/integration/test_migrations_keep_the_previous_release_working.py).
_STOP_THE_OLD_PODS = (
    "a fiches release from before the public search moved to the directory (a13cc2f) still "
    "writes this table: stop its pods before the migration Job (docs/operations.md, "
    "'Migrations and rollouts')"
)
ROLLOUT_REQUIRES = {f"{table}: table dropped": _STOP_THE_OLD_PODS for table in SEARCH_TABLES}


def upgrade() -> None:
    for table in SEARCH_TABLES:
        op.drop_table(table)


def downgrade() -> None:
    # Back to 0004's schema: the tables as revision 0003 made them, empty (the directory,
    # not fiches, holds the public read side).
    search_and_exports = importlib.import_module(
        "fiches.migrations.versions.0003_search_and_exports"
    )
    search_and_exports.create_search_tables()
