"""directory: every practice rebuilt once, so that HSDS `search=` finds its services by the
profession's French and English names too.

A service's and a service at a location's search terms held the words of the profession's
Dutch name only (`verpleegkundige`): `search=infirmier` or `search=nurse` found nothing,
though the service's description names the profession in French. The builders now add the
French and English names' words (`domain/hsds.py`). This revision changes no table: it
queues every practice in `projection_pending`, as 0011 and 0012 did, and the directory's
idle flush rebuilds them a chunk per transaction. A rebuilt practice whose resources are
otherwise unchanged keeps their versions: only their terms change.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from alembic import op

revision = "0013"
down_revision = "0012"
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
    # Nothing to undo: a practice rebuilt by the release before keeps the extra words
    # until its next change, and they only widen a search.
    pass
