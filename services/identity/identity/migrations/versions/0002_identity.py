"""identity: eligibility view, users, e-mail verification, login, sessions, signing keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "registry_identities",
        sa.Column("professional_id", sa.String(64), primary_key=True),
        sa.Column("nrn_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_registry_identities_nrn_hash", "registry_identities", ["nrn_hash"])
    op.create_table(
        "registry_professionals",
        sa.Column("professional_id", sa.String(64), primary_key=True),
        sa.Column("professions", sa.JSON(), nullable=False),
        sa.Column("practice_ban", sa.Boolean(), nullable=False),
        sa.Column("deceased", sa.Boolean(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("source_version", _TS, nullable=False),
    )
    op.create_table(
        "users",
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
    )
    op.create_table(
        "email_verifications",
        sa.Column("verification_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.Column("superseded_at", _TS, nullable=True),
    )
    op.create_index("ix_email_verifications_user_id", "email_verifications", ["user_id"])
    op.create_table(
        "login_requests",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("login_as", sa.String(20), nullable=False),
        sa.Column("return_to", sa.String(500), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
    )
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(36), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("login_as", sa.String(20), nullable=False),
        sa.Column("professional_id", sa.String(64), nullable=True),
        sa.Column("professions", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(100), primary_key=True),
        sa.Column("algorithm", sa.String(20), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False, comment="Encrypted PEM."),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("not_before", _TS, nullable=False),
        sa.Column("retire_after", _TS, nullable=True),
        sa.Column("announcement_event_id", sa.String(36), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "signing_keys",
        "sessions",
        "login_requests",
        "email_verifications",
        "users",
        "registry_professionals",
        "registry_identities",
    ):
        op.drop_table(table)
