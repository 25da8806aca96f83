"""identity's tables (its own database).

No national register number is stored in clear: people are found by its keyed hash.
Tokens (sessions, activation links, login state) are stored as SHA-256 hashes only.
"""

from __future__ import annotations

import sqlalchemy as sa

from servicekit.messaging.tables import add_messaging_tables
from servicekit.runtime import ServiceTables

metadata = sa.MetaData()
outbox, inbox = add_messaging_tables(metadata)

_TS = sa.DateTime(timezone=True)


#: registry.identities.v1: the keyed hash of a person's national register number.
registry_identities = sa.Table(
    "registry_identities",
    metadata,
    sa.Column("professional_id", sa.String(64), primary_key=True),
    sa.Column("nrn_hash", sa.String(64), nullable=False, index=True),
)

#: registry.professionals.v1: what the professional login checks.
registry_professionals = sa.Table(
    "registry_professionals",
    metadata,
    sa.Column("professional_id", sa.String(64), primary_key=True),
    sa.Column("professions", sa.JSON(), nullable=False),
    sa.Column("practice_ban", sa.Boolean(), nullable=False),
    sa.Column("deceased", sa.Boolean(), nullable=False),
    sa.Column("removed", sa.Boolean(), nullable=False),
    sa.Column("source_version", _TS, nullable=False),
)

#: Status changes and removals read ahead of the in-order group (`identity.registry-stops`),
#: replayed over `registry_professionals` until that group applies them in its turn: a stop
#: ends the sessions and refuses the login at once, behind however long a backlog.
registry_changes_ahead = sa.Table(
    "registry_changes_ahead",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("professional_id", sa.String(64), nullable=False, index=True),
    sa.Column("source_version", _TS, nullable=False),
    # The status change or removal as published: {"type": ce_type, "data": payload}.
    sa.Column("event", sa.JSON(), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.String(36), primary_key=True),
    sa.Column("nrn_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("given_name", sa.String(200), nullable=False),
    sa.Column("surname", sa.String(200), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("team", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("professional_id", sa.String(64), nullable=True),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("activated_at", _TS, nullable=True),
    # When the current name was last announced on identity.profiles.v1 (None: not yet).
    sa.Column("profile_announced_at", _TS, nullable=True),
)

email_verifications = sa.Table(
    "email_verifications",
    metadata,
    sa.Column("verification_id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), nullable=False, index=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("expires_at", _TS, nullable=False),
    sa.Column("used_at", _TS, nullable=True),
    sa.Column("superseded_at", _TS, nullable=True),
)

login_requests = sa.Table(
    "login_requests",
    metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("nonce", sa.String(100), nullable=False),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("login_as", sa.String(20), nullable=False),
    sa.Column("return_to", sa.String(500), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("expires_at", _TS, nullable=False),
    sa.Column("used_at", _TS, nullable=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session_id", sa.String(36), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.String(36), nullable=False, index=True),
    sa.Column("login_as", sa.String(20), nullable=False),
    sa.Column("professional_id", sa.String(64), nullable=True),
    sa.Column("professions", sa.JSON(), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("expires_at", _TS, nullable=False),
    sa.Column("revoked_at", _TS, nullable=True),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(100), primary_key=True),
    sa.Column("algorithm", sa.String(20), nullable=False),
    sa.Column("private_key", sa.Text(), nullable=False, comment="Encrypted PEM."),
    sa.Column("public_jwk", sa.JSON(), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("not_before", _TS, nullable=False),
    sa.Column("retire_after", _TS, nullable=True),
    sa.Column("announcement_event_id", sa.String(36), nullable=False),
)

TABLES = ServiceTables(metadata=metadata, outbox=outbox, inbox=inbox)
