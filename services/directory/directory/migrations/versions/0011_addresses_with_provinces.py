"""directory: every practice rebuilt once, so that its addresses show their province.

HSDS addresses wrote the municipality in `state_province` (which HSDS requires) and had no
`region`; FHIR addresses had no `state`. The builders now write the province and the
region of the postcode (`domain/provinces.py`). This revision changes no table: it queues
every practice in `projection_pending`, and the directory's idle flush rebuilds them a
chunk per transaction within a second of starting, as after a catch-up. A resource whose
address changed gets a new version and `last_updated`, so an agency polling FHIR's
`_history` or HSDS's `modified_after` is told of it.

During the rollout, a directory of the release before rebuilds waiting fiches only after
a batch of its own was deferred (a catch-up): in the usual case the new release's pods
rebuild them all; a practice an older pod rebuilt shows its province at its next change.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO projection_pending (kind, fiche_id) "
            "SELECT 'practice', practice_id FROM search_practices ON CONFLICT DO NOTHING"
        )
    else:
        op.execute(
            "INSERT OR IGNORE INTO projection_pending (kind, fiche_id) "
            "SELECT 'practice', practice_id FROM search_practices"
        )


def downgrade() -> None:
    # Nothing to undo: a practice rebuilt by the release before writes its addresses as
    # it did, at its next change.
    pass
