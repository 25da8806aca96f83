"""The table of users' exports.

It lives in fiches' own database, on the same metadata as its other tables; importing
this module registers it (the composition root imports it through the export handlers).
Migration 0003 creates it. An export reads fiches' own tables (the caller's fiches), never
the public search model, which lives in the directory service.
"""

from __future__ import annotations

import sqlalchemy as sa

from fiches.adapters.tables import metadata

fiche_exports = sa.Table(
    "fiche_exports",
    metadata,
    sa.Column("export_id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(100), nullable=False, index=True),
    sa.Column("professional_id", sa.String(36), nullable=True),
    sa.Column("formats", sa.JSON(), nullable=False),
    # pending -> ready (files stored, link sent) | failed; expired once the link lapsed.
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("csv_content", sa.Text(), nullable=True),
    sa.Column("json_content", sa.Text(), nullable=True),
    sa.Column("fiche_count", sa.Integer(), nullable=True),
    sa.Column("error", sa.String(500), nullable=True),
    # The request's correlation id (migration 0006): the background worker produces the
    # export in it, so the ExportReady event and the e-mail carry the id of the request
    # that asked for them. NULL for exports requested before.
    sa.Column("correlation_id", sa.String(200), nullable=True),
)
