"""registry-sync's tables: the last known state of every professional, and sync runs."""

from __future__ import annotations

import sqlalchemy as sa

from servicekit.messaging.tables import add_messaging_tables
from servicekit.runtime import ServiceTables

metadata = sa.MetaData()

professionals = sa.Table(
    "professionals",
    metadata,
    sa.Column("professional_id", sa.String(36), primary_key=True),
    # HMAC-SHA256 of the national register number: the number itself is never stored.
    sa.Column("nrn_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("source_version", sa.DateTime(timezone=True), nullable=False),
    sa.Column("facts", sa.JSON(), nullable=False),
    sa.Column("removed", sa.Boolean(), nullable=False, default=False),
    # Keyed digest of the snapshot line the stored state came from: an import compares
    # each line's digest with these before parsing it, so an unchanged line costs a hash.
    # NULL when the state came from the delta feed (no line) or predates digests.
    sa.Column("line_digest", sa.LargeBinary(16), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("counts", sa.JSON(), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    # Rejected lines (lenient runs) and notes, as "line N, field F: problem" strings.
    sa.Column("errors", sa.JSON(), nullable=False, default=list),
)

outbox, inbox = add_messaging_tables(metadata)

TABLES = ServiceTables(metadata=metadata, outbox=outbox, inbox=inbox)

# Where each delta feed was read up to. The cursor is the source's opaque string, moved in
# the same transaction as the changes of the page it follows (handlers/pull_changes.py).
feed_cursors = sa.Table(
    "feed_cursors",
    metadata,
    sa.Column("feed_url", sa.String(500), primary_key=True),
    sa.Column("cursor", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
