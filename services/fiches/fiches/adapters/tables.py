"""fiches' tables (its own database)."""

from __future__ import annotations

import sqlalchemy as sa

from servicekit.auth import add_signing_keys_table
from servicekit.messaging.tables import add_messaging_tables
from servicekit.runtime import ServiceTables

metadata = sa.MetaData()

provider_fiches = sa.Table(
    "provider_fiches",
    metadata,
    sa.Column("fiche_id", sa.String(36), primary_key=True),
    sa.Column("professional_id", sa.String(36), nullable=False, unique=True),
    sa.Column("official_last_name", sa.String(200), nullable=False),
    sa.Column("official_first_name", sa.String(200), nullable=False),
    # Lower-cased "first last" for the name filter of the public list.
    sa.Column("search_name", sa.String(400), nullable=False, index=True),
    sa.Column("language", sa.String(10), nullable=True),
    sa.Column("professions", sa.JSON(), nullable=False),
    # Space-separated codes of publicly shown professions, for the profession filter.
    sa.Column("profession_codes", sa.String(400), nullable=False),
    sa.Column("practice_ban", sa.Boolean(), nullable=False),
    sa.Column("deceased", sa.Boolean(), nullable=False),
    sa.Column("may_practise", sa.Boolean(), nullable=False),
    sa.Column("registry_version", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published", sa.Boolean(), nullable=False, index=True),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("depublication_reason", sa.String(40), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # The provider's own fields (preferred name, contact data, languages, description).
    # Only the write API touches them; registry events never do, so a batch of registry
    # updates cannot overwrite a provider's edit.
    sa.Column("own_draft", sa.JSON(), nullable=True),
    sa.Column("own_published", sa.JSON(), nullable=True),
    sa.Column("own_version", sa.Integer(), nullable=True),
)

practice_fiches = sa.Table(
    "practice_fiches",
    metadata,
    sa.Column("practice_id", sa.String(36), primary_key=True),
    # The edit version (`bewerkversie`): every save lands here.
    sa.Column("draft", sa.JSON(), nullable=False),
    sa.Column("draft_version", sa.Integer(), nullable=False),
    # The published version: what the public reads and the topics carry.
    sa.Column("published_data", sa.JSON(), nullable=True),
    sa.Column("published", sa.Boolean(), nullable=False, index=True),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("removed", sa.Boolean(), nullable=False),
    # Preferred name of the edit version (managers, messages) and of the published one
    # (public search), lower-cased for matching.
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("search_name", sa.String(200), nullable=False, index=True),
    sa.Column("published_search_name", sa.String(200), nullable=True, index=True),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# One row per (practice, provider, profession): the offer block entry. `in_draft` is the
# edit version, `in_published` the published one; a row with both false is deleted.
practice_offers = sa.Table(
    "practice_offers",
    metadata,
    sa.Column("practice_id", sa.String(36), primary_key=True),
    sa.Column("professional_id", sa.String(36), primary_key=True),
    sa.Column("profession", sa.String(60), primary_key=True),
    sa.Column("provider_fiche_id", sa.String(36), nullable=False, index=True),
    sa.Column("in_draft", sa.Boolean(), nullable=False),
    sa.Column("in_published", sa.Boolean(), nullable=False),
    sa.Column("changed_by", sa.String(100), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_practice_offers_professional", "professional_id"),
)

practice_managers = sa.Table(
    "practice_managers",
    metadata,
    sa.Column("practice_id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(100), primary_key=True, index=True),
    sa.Column("granted_by", sa.String(100), nullable=False),
    sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
)

# Every change to a fiche: who, when, what (field names), and the edit version after it.
fiche_history = sa.Table(
    "fiche_history",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("fiche_type", sa.String(20), nullable=False),
    sa.Column("fiche_id", sa.String(36), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("action", sa.String(80), nullable=False),
    sa.Column("user_id", sa.String(100), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("changed_fields", sa.JSON(), nullable=False),
    sa.Column("snapshot", sa.JSON(), nullable=False),
    sa.UniqueConstraint("fiche_type", "fiche_id", "version", name="uq_fiche_history_version"),
)

fiche_requests = sa.Table(
    "fiche_requests",
    metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("fiche_type", sa.String(20), nullable=False),
    sa.Column("fiche_id", sa.String(36), nullable=False, index=True),
    sa.Column("fiche_name", sa.String(200), nullable=False),
    sa.Column("requester_user_id", sa.String(100), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("decided_by", sa.String(100), nullable=True),
    sa.Column("comment", sa.String(2000), nullable=True),
)

# The platform's activated users, from identity.profiles.v1: to name managers and
# requesters, and to find the person a manager grants rights to (by a keyed hash of their
# address, never the address, or by name).
known_users = sa.Table(
    "known_users",
    metadata,
    sa.Column("user_id", sa.String(100), primary_key=True),
    sa.Column("display_name", sa.String(400), nullable=False),
    # Lower-cased, accents and extra spaces removed: what a name grant is matched on.
    sa.Column("match_name", sa.String(400), nullable=False, index=True),
    sa.Column("email_lookup", sa.String(64), nullable=False, index=True),
    sa.Column("professional_id", sa.String(36), nullable=True),
    # occurred_at of the announcement the row reflects: an older one changes nothing.
    sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
)

trusted_signing_keys = add_signing_keys_table(metadata)

outbox, inbox = add_messaging_tables(metadata)

TABLES = ServiceTables(metadata=metadata, outbox=outbox, inbox=inbox)
