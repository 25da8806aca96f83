"""directory: the terms `Practitioner?identifier=` finds a practitioner by, from the
identifiers (RIZIV numbers) their stored resources already show.

For each identifier of a stored FHIR Practitioner: `identifier:<value>` and
`identifier:<system>|<value>`, as `domain.fhir.identifier_terms` writes them for the
resources the projection builds from now on. Taken under the projection's lock
(`one_writer`) on PostgreSQL, so no rebuild writes a practitioner's terms meanwhile.

A directory of the release before, running until the rollout finishes, writes a
practitioner's terms without them when it rebuilds that provider: such a practitioner is
found by `identifier` again at the provider's next change (docs/operations.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_PROJECTION_LOCK = 0x6469726563746F72
"""adapters/pending.py's `one_writer` key, frozen here as this revision uses it."""

_POSTGRESQL = """
INSERT INTO standard_terms (standard, type, term, id)
SELECT DISTINCT r.standard, r.type, t.term, r.id
FROM (
    -- The practitioners first, then those with identifiers: OFFSET 0 keeps the planner
    -- from testing every resource's text (1.4 million on the benchmark's database: 2.8-3.4 s
    -- instead of 0.7-1.3 s, warm).
    SELECT standard, type, id, content FROM standard_resources
    WHERE standard = 'fhir' AND type = 'Practitioner' OFFSET 0
) AS r
CROSS JOIN LATERAL jsonb_array_elements(CAST(r.content AS jsonb) -> 'identifier') AS i(item)
CROSS JOIN LATERAL (
    VALUES ('identifier:' || (i.item ->> 'value')),
           ('identifier:' || (i.item ->> 'system') || '|' || (i.item ->> 'value'))
) AS t(term)
WHERE r.content LIKE '%"identifier"%'
  AND i.item ->> 'value' IS NOT NULL AND i.item ->> 'system' IS NOT NULL
ON CONFLICT DO NOTHING
"""

_SQLITE = """
INSERT OR IGNORE INTO standard_terms (standard, type, term, id)
SELECT r.standard, r.type, 'identifier:' || json_extract(i.value, '$.value'), r.id
FROM standard_resources AS r, json_each(r.content, '$.identifier') AS i
WHERE r.standard = 'fhir' AND r.type = 'Practitioner' AND r.content LIKE '%"identifier"%'
  AND json_extract(i.value, '$.value') IS NOT NULL
  AND json_extract(i.value, '$.system') IS NOT NULL
UNION
SELECT r.standard, r.type,
       'identifier:' || json_extract(i.value, '$.system') || '|'
       || json_extract(i.value, '$.value'),
       r.id
FROM standard_resources AS r, json_each(r.content, '$.identifier') AS i
WHERE r.standard = 'fhir' AND r.type = 'Practitioner' AND r.content LIKE '%"identifier"%'
  AND json_extract(i.value, '$.value') IS NOT NULL
  AND json_extract(i.value, '$.system') IS NOT NULL
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({_PROJECTION_LOCK})")
        op.execute(_POSTGRESQL)
    else:
        op.execute(_SQLITE)


def downgrade() -> None:
    op.execute(
        "DELETE FROM standard_terms WHERE standard = 'fhir' AND type = 'Practitioner' "
        "AND term LIKE 'identifier:%'"
    )
