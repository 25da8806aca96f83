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

The HSDS records' prefixes are counted as they are written and deleted
(adapters/prefix_totals.py): an HSDS page's total for one name word is then one row.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters import prefix_totals
from directory.adapters.id_lists import delete_rows, driver_connection, insert_rows
from directory.adapters.prefix_totals import ADDED_BY_RETURNING
from directory.adapters.tables import search_prefixes, standard_prefixes
from directory.domain.text import LONGEST_PREFIX, SHORTEST_PREFIX, is_name_term, stored_prefixes


@dataclass(frozen=True)
class _PrefixTable:
    """A prefix table and the term table columns its rows copy (all but the prefix)."""

    table: sa.Table
    copied: tuple[str, ...]
    """The term row's columns a prefix row repeats, `term` first."""
    totals_kept: bool = False
    """Whether `standard_prefix_totals` counts its records (adapters/prefix_totals.py)."""

    def rows(self, terms: Iterable[Any]) -> list[dict[str, Any]]:
        """The prefix rows of these term rows (rows or mappings)."""
        found = []
        for row in terms:
            values = {name: _field(row, name) for name in self.copied}
            found += [{**values, "prefix": prefix} for prefix in stored_prefixes(values["term"])]
        return found

    @functools.cached_property
    def cut_by_the_database(self) -> str:
        """INSERT of the prefixes of the name terms given as one array per copied column:
        `n:` and a word of at least `size` characters has a prefix of size + 2."""
        arrays = ", ".join(f"${n}::text[]" for n in range(1, len(self.copied) + 1))
        names = ", ".join(self.copied)
        copied = ", ".join(f"t.{name}" for name in self.copied)
        return f"""
INSERT INTO {self.table.name} (prefix, {names})
SELECT left(t.term, size + 2), {copied}
FROM unnest({arrays}) AS t({names})
CROSS JOIN generate_series({SHORTEST_PREFIX}, {LONGEST_PREFIX}) AS size
WHERE length(t.term) >= size + 2
"""

    @functools.cached_property
    def cut_and_counted(self) -> str:
        """`cut_by_the_database`, the records it wrote prefixes for added to the totals in
        the same statement."""
        returning = "RETURNING standard, type, prefix, id"
        return f"WITH added AS ({self.cut_by_the_database}{returning})\n{ADDED_BY_RETURNING}"


_SEARCH = _PrefixTable(search_prefixes, ("term", "sort_key", "kind", "fiche_id"))
_STANDARD = _PrefixTable(standard_prefixes, ("term", "standard", "type", "id"), totals_kept=True)


def _field(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


async def _write(session: AsyncSession, prefixes: _PrefixTable, terms: Iterable[Any]) -> None:
    names = [row for row in terms if is_name_term(row["term"])]
    if not names:
        return
    counted = prefixes.totals_kept and prefix_totals.kept_in(session)
    if session.get_bind().dialect.name != "postgresql":
        rows = prefixes.rows(names)
        await insert_rows(session, prefixes.table, rows)
        if counted:
            await prefix_totals.add(session, prefix_totals.changes(rows, 1))
        return
    columns = [[row[name] for row in names] for name in prefixes.copied]
    sql = prefixes.cut_and_counted if counted else prefixes.cut_by_the_database
    await (await driver_connection(session)).execute(sql, *columns)


async def write_search_prefixes(session: AsyncSession, terms: Iterable[dict[str, Any]]) -> None:
    """The prefix rows of search term rows just inserted (term, kind, fiche_id, sort_key)."""
    await _write(session, _SEARCH, terms)


async def write_standard_prefixes(session: AsyncSession, terms: Iterable[dict[str, Any]]) -> None:
    """The prefix rows of standard term rows just inserted (standard, type, term, id;
    every term of their resources), their records added to the prefix totals."""
    await _write(session, _STANDARD, terms)


async def forget_search_prefixes(session: AsyncSession, deleted_terms: Iterable[Any]) -> None:
    """Delete the prefix rows of these deleted search term rows (term, sort_key, kind,
    fiche_id: rows or mappings)."""
    await delete_rows(session, search_prefixes, _SEARCH.rows(deleted_terms))


async def forget_standard_prefixes(session: AsyncSession, deleted_terms: Iterable[Any]) -> None:
    """Delete the prefix rows of these deleted standard term rows (standard, type, term,
    id: rows or mappings; every term of their resources) and take their records from the
    prefix totals."""
    rows = _STANDARD.rows(deleted_terms)
    await delete_rows(session, standard_prefixes, rows)
    if prefix_totals.kept_in(session):
        await prefix_totals.add(session, prefix_totals.changes(rows, -1))
