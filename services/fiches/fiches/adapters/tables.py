"""fiches' tables (its own database)."""

from __future__ import annotations

import sqlalchemy as sa

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
)

outbox, inbox = add_messaging_tables(metadata)

TABLES = ServiceTables(metadata=metadata, outbox=outbox, inbox=inbox)
