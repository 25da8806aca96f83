"""directory: the terms `Practitioner?identifier=`, `family=` and `given=` find a
practitioner by, from what their stored resources already show.

For each identifier (RIZIV/INAMI number) of a stored FHIR Practitioner:
`identifier:<value>` and `identifier:<system>|<value>`, as `domain.fhir.identifier_terms`
writes them; for each word of its official name's family and given parts: `family:<word>`,
`given:<word>`, as `domain.fhir.name_part_terms` writes them (words as
`domain.text.words` makes them, the normalization every name search shares). Taken under
the projection's lock (`one_writer`) on PostgreSQL, so no rebuild writes a practitioner's
terms meanwhile.

A directory of the release before, running until the rollout finishes, writes a
practitioner's terms without them when it rebuilds that provider: such a practitioner is
found by these parameters again at the provider's next change (docs/operations.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

from directory.domain.text import words

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


_TERMS = sa.table(
    "standard_terms", sa.column("standard"), sa.column("type"), sa.column("term"), sa.column("id")
)
_BATCH = 2_000


def _name_part_terms(content: dict[str, Any]) -> set[str]:
    """`family:<word>` and `given:<word>` of the official name a stored Practitioner shows."""
    official = next((n for n in content.get("name") or [] if n.get("use") == "official"), {})
    return {f"family:{word}" for word in words(official.get("family"))} | {
        f"given:{word}" for part in official.get("given") or [] for word in words(part)
    }


def _name_part_rows(connection: sa.Connection) -> Iterator[list[dict[str, str]]]:
    """The name-part term rows of the stored Practitioners, a batch of them at a time."""
    after = ""
    while True:
        found = connection.execute(
            sa.text(
                "SELECT id, content FROM standard_resources "
                "WHERE standard = 'fhir' AND type = 'Practitioner' AND id > :after "
                "ORDER BY id LIMIT :batch"
            ),
            {"after": after, "batch": _BATCH},
        ).all()
        if not found:
            return
        yield [
            {"standard": "fhir", "type": "Practitioner", "term": term, "id": resource_id}
            for resource_id, content in found
            for term in sorted(_name_part_terms(json.loads(content)))
        ]
        after = found[-1][0]


def upgrade() -> None:
    connection = op.get_bind()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        op.execute(f"SELECT pg_advisory_xact_lock({_PROJECTION_LOCK})")
    op.execute(_POSTGRESQL if postgres else _SQLITE)
    insert = postgresql.insert(_TERMS) if postgres else sqlite.insert(_TERMS)
    for rows in _name_part_rows(connection):
        if rows:
            connection.execute(insert.on_conflict_do_nothing(), rows)


def downgrade() -> None:
    op.execute(
        "DELETE FROM standard_terms WHERE standard = 'fhir' AND type = 'Practitioner' "
        "AND (term LIKE 'identifier:%' OR term LIKE 'family:%' OR term LIKE 'given:%')"
    )
