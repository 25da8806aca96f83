"""fiches: the correlation id of the request that asked for an export.

The export is produced later by a background worker; with the request's correlation id
stored beside it, the worker produces it in that id, so the ExportReady event, the e-mail
and the log lines can be traced back to the request. Exports requested before stay NULL
(each is then produced in an id of its own).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fiche_exports") as table:
        table.add_column(sa.Column("correlation_id", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fiche_exports") as table:
        table.drop_column("correlation_id")
