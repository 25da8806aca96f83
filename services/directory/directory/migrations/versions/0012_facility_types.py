"""directory: every practice rebuilt once, so that its FHIR resources carry mCSD's types.

A practice's FHIR Organization carried only the type `prov`, and its Locations no `type`
nor `physicalType`. IHE mCSD pairs a care site as a facility Organization and Location,
each typed `facility` (`https://profiles.ihe.net/ITI/mCSD/CodeSystem/IHE.mCSD.Organization.Location.Types`),
and a Location has a physical type: the builders now write them (`domain/fhir.py`). This
revision changes no table: it queues every practice in `projection_pending`, as 0011 did,
and the directory's idle flush rebuilds them a chunk per transaction. Every practice's
FHIR Organization and Locations get a new version and `last_updated`, so an agency
polling FHIR's `_history` is told of them; HSDS records do not change.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from alembic import op

revision = "0012"
down_revision = "0011"
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
    # Nothing to undo: a practice rebuilt by the release before writes its resources as
    # it did, at its next change.
    pass
