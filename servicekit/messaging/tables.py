"""The outbox and inbox tables every producing or consuming service has in its database."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

OUTBOX_TABLE = "outbox_messages"
INBOX_TABLE = "inbox_messages"
REFUSED_TABLE = "outbox_refused"
# The inbox by consumer and place in the log: pruning deletes below committed offsets.
INBOX_PLACE_INDEX = "ix_inbox_messages_place"


def _outbox_columns() -> list[sa.Column[Any]]:
    return [
        # BigInteger on PostgreSQL, INTEGER on SQLite (where only INTEGER autoincrements).
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _inbox_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _refused_columns() -> list[sa.Column[Any]]:
    # The outbox row as it was (so it can be published again after a fix), and why the
    # broker refused it. `id` is the outbox id: the order the events were written in.
    return [
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error_type", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    ]


def add_messaging_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """Declare the outbox and inbox on a service's metadata; returns (outbox, inbox).

    The table of refused events (`refused_table`) is declared beside them.
    """
    outbox = sa.Table(OUTBOX_TABLE, metadata, *_outbox_columns())
    inbox = sa.Table(
        INBOX_TABLE,
        metadata,
        *_inbox_columns(),
        sa.Index(INBOX_PLACE_INDEX, "consumer", "topic", "partition", "offset"),
    )
    sa.Table(REFUSED_TABLE, metadata, *_refused_columns())
    return outbox, inbox


def refused_table(outbox: sa.Table) -> sa.Table:
    """Where the relay moves the outbox rows the broker refuses for good."""
    return outbox.metadata.tables[REFUSED_TABLE]


def create_refused_table(op: Any) -> None:
    """Alembic: create the table of refused events (servicekit's messaging migrations)."""
    op.create_table(REFUSED_TABLE, *_refused_columns())


def drop_refused_table(op: Any) -> None:
    """Alembic: the downgrade of `create_refused_table`."""
    op.drop_table(REFUSED_TABLE)


def create_messaging_tables(op: Any) -> None:
    """Alembic: create both tables (called from each service's first migration)."""
    op.create_table(OUTBOX_TABLE, *_outbox_columns())
    op.create_table(INBOX_TABLE, *_inbox_columns())


def drop_messaging_tables(op: Any) -> None:
    """Alembic: the downgrade of `create_messaging_tables`."""
    op.drop_table(INBOX_TABLE)
    op.drop_table(OUTBOX_TABLE)
