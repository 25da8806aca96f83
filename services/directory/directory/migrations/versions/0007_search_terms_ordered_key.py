"""directory: search_terms' primary key is the order its pages are read in.

The table had three indexes: its primary key (term, kind, fiche_id), the page-order index
(term, sort_key, kind, fiche_id) and the index by fiche. A fiche's sort key is one value
per fiche, so (term, sort_key, kind, fiche_id) is unique exactly when (term, kind,
fiche_id) is: it becomes the primary key and the page-order index goes. Every search read
either the page-order index or the index by fiche; writing the rows of a 100,000-event
catch-up inside PostgreSQL took 1.3 s instead of 2.0 s (docs/benchmarks.md).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# What a directory of the release before, running until the rollout finishes, meets here
# (tests/integration/test_migrations_keep_the_previous_release_working.py).
SAFE_IN_A_ROLLOUT_BECAUSE = {
    "search_terms: unique (term, kind, fiche_id) dropped": (
        "the new key keeps the same rows unique (a fiche has one sort key), and no statement "
        "of the directory names (term, kind, fiche_id) as an ON CONFLICT target: it deletes "
        "a fiche's term rows before inserting them again"
    ),
}

_ORDERED = ["term", "sort_key", "kind", "fiche_id"]
_BY_TERM = ["term", "kind", "fiche_id"]


def _sqlite_table(key: list[str], *indexes: sa.Index) -> sa.Table:
    """search_terms as SQLite copies it (batch mode cannot change a reflected key)."""
    return sa.Table(
        "search_terms",
        sa.MetaData(),
        sa.Column("term", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("fiche_id", sa.String(36), nullable=False),
        sa.Column("sort_key", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint(*key, name="search_terms_pkey"),
        sa.Index("ix_search_terms_fiche", "kind", "fiche_id", "term"),
        *indexes,
    )


def _key_on_postgresql(columns: list[str]) -> None:
    op.execute(
        "ALTER TABLE search_terms DROP CONSTRAINT search_terms_pkey, "
        f"ADD CONSTRAINT search_terms_pkey PRIMARY KEY ({', '.join(columns)})"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _key_on_postgresql(_ORDERED)
        op.drop_index("ix_search_terms_order", table_name="search_terms")
        return
    with op.batch_alter_table("search_terms", recreate="always", copy_from=_sqlite_table(_ORDERED)):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_search_terms_order", "search_terms", _ORDERED)
        _key_on_postgresql(_BY_TERM)
        return
    ordered = sa.Index("ix_search_terms_order", *_ORDERED)
    with op.batch_alter_table(
        "search_terms", recreate="always", copy_from=_sqlite_table(_BY_TERM, ordered)
    ):
        pass
