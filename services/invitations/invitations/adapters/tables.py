"""invitations' tables (its own database)."""

from __future__ import annotations

import sqlalchemy as sa

from servicekit.auth import add_signing_keys_table
from servicekit.messaging.tables import add_messaging_tables
from servicekit.runtime import ServiceTables

metadata = sa.MetaData()

# invitations' own view of who manages which practice, from fiches.managers.v1.
practice_managers = sa.Table(
    "practice_managers",
    metadata,
    sa.Column("practice_id", sa.String(64), primary_key=True),
    sa.Column("practice_name", sa.String(300), nullable=False),
    sa.Column("manager_user_ids", sa.JSON(), nullable=False),
    sa.Column("linked_professional_ids", sa.JSON(), nullable=False),
    # occurred_at of the event the row reflects: an older event changes nothing.
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("invitation_id", sa.String(36), primary_key=True),
    sa.Column("practice_id", sa.String(64), nullable=False, index=True),
    sa.Column("inviter_user_id", sa.String(64), nullable=False),
    sa.Column("inviter_name", sa.String(300), nullable=False),
    sa.Column("profession", sa.String(60), nullable=True),
    sa.Column("language", sa.String(5), nullable=False),
    # The manager chose `language`; otherwise it is theirs, and notifications writes in
    # the invitee's own language when it knows them.
    sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false()),
    # SHA-256 of the link token; the token itself is never stored.
    sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
    # Keyed hash of the invitee's address (recognises a second invitation to them).
    sa.Column("address_fingerprint", sa.String(64), nullable=False, index=True),
    # The address, encrypted, only while the invitation is open (to resend it).
    sa.Column("sealed_address", sa.Text(), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("mails_sent", sa.Integer(), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("ended_by_user_id", sa.String(64), nullable=True),
    # The name (never the address) of who accepted or revoked it, as their login gave it.
    sa.Column("ended_by_name", sa.String(300), nullable=True),
    sa.Column("accepted_professional_id", sa.String(64), nullable=True),
    sa.Column("accepted_professions", sa.JSON(), nullable=True),
)

signing_keys = add_signing_keys_table(metadata)

outbox, inbox = add_messaging_tables(metadata)
TABLES = ServiceTables(metadata=metadata, outbox=outbox, inbox=inbox)
