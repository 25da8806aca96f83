"""notifications' tables (its own database)."""

from __future__ import annotations

import sqlalchemy as sa

from servicekit.messaging.tables import add_messaging_tables
from servicekit.runtime import ServiceTables

metadata = sa.MetaData()


address_book = sa.Table(
    "address_book",
    metadata,
    # user id → verified address, from identity's ProfileActivated. The address is
    # sealed (servicekit.sealing): a copy of the database opens none.
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("email", sa.String(1024), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("display_name", sa.String(200), nullable=False),
    # Keyed digest of the address (KeyRing.address_digest): an invitation mailed to this
    # address is written in this user's language.
    sa.Column("email_digest", sa.String(100), nullable=True, index=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    # One row per e-mail an event asked for.
    sa.Column("delivery_id", sa.String(36), primary_key=True),
    # What asked for it, e.g. "email_verification:<verification_id>": one delivery
    # per request, however often the event (or a copy with a new id) arrives.
    sa.Column("dedup_key", sa.String(300), nullable=False, unique=True),
    sa.Column("source_event_type", sa.String(200), nullable=False),
    sa.Column("source_id", sa.String(200), nullable=False),
    sa.Column("template", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("recipient_user_id", sa.String(64), nullable=True, index=True),
    # The address and the template's values (links with tokens) are kept only while
    # the message may still be sent; they are erased when it is sent or failed. The
    # address and every link are sealed (servicekit.sealing), opened only to send.
    sa.Column("recipient_email", sa.String(1024), nullable=True),
    sa.Column("recipient_digest", sa.String(64), nullable=True, index=True),
    sa.Column("context", sa.JSON(), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    # A sender working on the row holds it until then (several replicas may run).
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
)

outbox, inbox = add_messaging_tables(metadata)
TABLES = ServiceTables(metadata=metadata, outbox=outbox, inbox=inbox)
