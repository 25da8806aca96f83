"""Name prefixes of 3 to 7 characters, stored beside the name terms they come from.

A name search word of that length (`q=peet`, HSDS `search=peete`) is then one equality on
`search_prefixes` / `standard_prefixes`, whose rows are in page order: a page reads little
more than a page. As a prefix range over the terms, the same search gathered every
matching term (thousands for a common prefix) and sorted them for one page.

The projection calls `write_search_prefixes` / `write_standard_prefixes` right after it
inserts the term rows, and `forget_search_prefixes` / `forget_standard_prefixes` with the
term rows it deleted. A prefix row is a function of its term row (`stored_prefixes`), so
the prefix rows of deleted terms are deleted by their whole primary key: the tables need
no second index to find a fiche's or a resource's rows (that index was about 40% of
writing them, the largest write of a catch-up), and no foreign key (its check on every
row was about 30%).

On PostgreSQL the prefixes are cut by the database from the name terms it is sent
(`left(term, n)`, as migration 0004 backfilled them): a catch-up of 100,000 events writes
about 1.3 million prefix rows, which Python otherwise built as dictionaries and encoded one
by one for COPY.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.id_lists import delete_rows, insert_rows
from directory.adapters.tables import search_prefixes, standard_prefixes
from directory.domain.text import LONGEST_PREFIX, SHORTEST_PREFIX, is_name_term, stored_prefixes

# `n:` and a word of at least `size` characters: its prefix is the term's first size + 2.
_CUT = f"""
INSERT INTO {{table}} ({{columns}})
SELECT {{selected}}
FROM unnest({{arrays}}) AS t({{names}})
CROSS JOIN generate_series({SHORTEST_PREFIX}, {LONGEST_PREFIX}) AS size
WHERE length(t.term) >= size + 2
"""

_SEARCH_CUT = _CUT.format(
    table="search_prefixes",
    columns="prefix, sort_key, kind, fiche_id, term",
    selected="left(t.term, size + 2), t.sort_key, t.kind, t.fiche_id, t.term",
    arrays="$1::text[], $2::text[], $3::text[], $4::text[]",
    names="term, sort_key, kind, fiche_id",
)
_STANDARD_CUT = _CUT.format(
    table="standard_prefixes",
    columns="standard, type, prefix, id, term",
    selected="t.standard, t.type, left(t.term, size + 2), t.id, t.term",
    arrays="$1::text[], $2::text[], $3::text[], $4::text[]",
    names="standard, type, term, id",
)


async def _cut_by_the_database(
    session: AsyncSession, statement: str, columns: Sequence[list[str]]
) -> None:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    await raw.driver_connection.execute(statement, *columns)  # type: ignore[union-attr]


def _on_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def write_search_prefixes(session: AsyncSession, terms: Iterable[dict[str, Any]]) -> None:
    """The prefix rows of search term rows just inserted (term, kind, fiche_id, sort_key)."""
    names = [row for row in terms if is_name_term(row["term"])]
    if not names:
        return
    if _on_postgresql(session):
        fields = ("term", "sort_key", "kind", "fiche_id")
        await _cut_by_the_database(
            session, _SEARCH_CUT, [[row[field] for row in names] for field in fields]
        )
        return
    await insert_rows(session, search_prefixes, _search_prefix_rows(names))


async def write_standard_prefixes(session: AsyncSession, terms: Iterable[dict[str, Any]]) -> None:
    """The prefix rows of standard term rows just inserted (standard, type, term, id)."""
    names = [row for row in terms if is_name_term(row["term"])]
    if not names:
        return
    if _on_postgresql(session):
        fields = ("standard", "type", "term", "id")
        await _cut_by_the_database(
            session, _STANDARD_CUT, [[row[field] for row in names] for field in fields]
        )
        return
    await insert_rows(session, standard_prefixes, _standard_prefix_rows(names))


async def forget_search_prefixes(session: AsyncSession, deleted_terms: Iterable[Any]) -> None:
    """Delete the prefix rows of these deleted search term rows (term, sort_key, kind,
    fiche_id: rows or mappings)."""
    await delete_rows(session, search_prefixes, _search_prefix_rows(deleted_terms))


async def forget_standard_prefixes(session: AsyncSession, deleted_terms: Iterable[Any]) -> None:
    """Delete the prefix rows of these deleted standard term rows (standard, type, term,
    id: rows or mappings)."""
    await delete_rows(session, standard_prefixes, _standard_prefix_rows(deleted_terms))


def _field(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


def _search_prefix_rows(terms: Iterable[Any]) -> list[dict[str, Any]]:
    rows = []
    for row in terms:
        term = _field(row, "term")
        for prefix in stored_prefixes(term):
            rows.append(
                {
                    "prefix": prefix,
                    "sort_key": _field(row, "sort_key"),
                    "kind": _field(row, "kind"),
                    "fiche_id": _field(row, "fiche_id"),
                    "term": term,
                }
            )
    return rows


def _standard_prefix_rows(terms: Iterable[Any]) -> list[dict[str, Any]]:
    rows = []
    for row in terms:
        term = _field(row, "term")
        for prefix in stored_prefixes(term):
            rows.append(
                {
                    "standard": _field(row, "standard"),
                    "type": _field(row, "type"),
                    "prefix": prefix,
                    "id": _field(row, "id"),
                    "term": term,
                }
            )
    return rows
