"""Name prefixes of 3 to 7 characters, stored beside the name terms they come from.

A name search word of that length (`q=peet`, HSDS `search=peete`) is then one equality on
`search_prefixes` / `standard_prefixes`, whose rows are in page order: a page reads little
more than a page. As a prefix range over the terms, the same search gathered every
matching term (thousands for a common prefix) and sorted them for one page.

The projection calls `write_search_prefixes` / `write_standard_prefixes` right after it
inserts the term rows, and deletes them where it deletes the terms (no foreign key: its
check on every row was about 30% of writing them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.id_lists import insert_rows
from directory.adapters.tables import search_prefixes, standard_prefixes
from directory.domain.text import stored_prefixes


async def write_search_prefixes(session: AsyncSession, terms: Iterable[dict[str, Any]]) -> None:
    """The prefix rows of search term rows just inserted (term, kind, fiche_id, sort_key)."""
    await insert_rows(
        session,
        search_prefixes,
        [
            {
                "prefix": prefix,
                "sort_key": row["sort_key"],
                "kind": row["kind"],
                "fiche_id": row["fiche_id"],
                "term": row["term"],
            }
            for row in terms
            for prefix in stored_prefixes(row["term"])
        ],
    )


async def write_standard_prefixes(session: AsyncSession, terms: Iterable[dict[str, Any]]) -> None:
    """The prefix rows of standard term rows just inserted (standard, type, term, id)."""
    await insert_rows(
        session,
        standard_prefixes,
        [
            {
                "standard": row["standard"],
                "type": row["type"],
                "prefix": prefix,
                "id": row["id"],
                "term": row["term"],
            }
            for row in terms
            for prefix in stored_prefixes(row["term"])
        ],
    )
