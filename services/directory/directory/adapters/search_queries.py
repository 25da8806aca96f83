"""The search statements over the term index, and running one page of a search."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from directory.adapters.driver_rows import fetch_rows
from directory.adapters.tables import search_documents, search_prefixes, search_terms
from directory.domain import ranking
from directory.domain.ranking import (
    Condition,
    SearchFilters,
    SelectivityCache,
    choose_driver,
    conditions,
    needs_counts,
)


def condition_on(condition: Condition, terms: Any) -> sa.ColumnElement[bool]:
    """One condition on a term table (or an alias of it)."""
    if condition.high is None:
        return terms.c.term == condition.low
    return sa.and_(terms.c.term >= condition.low, terms.c.term < condition.high)


@functools.lru_cache(maxsize=256)
def _count_shape(ways: tuple[str, ...], with_kind: bool) -> sa.Select[Any]:
    """How many fiches each condition matches, each count stopped at COUNT_CAP; built once
    per shape (its values are bind parameters, as the search's)."""
    counts = []
    for number, way in enumerate(ways):
        if way == "stored":
            table: Any = search_prefixes
            matching = sa.select(sa.literal(1)).where(
                search_prefixes.c.prefix == sa.bindparam(f"low{number}")
            )
        else:
            table = search_terms
            matching = sa.select(sa.literal(1)).where(_on(table, number, way == "range"))
        if with_kind:
            matching = matching.where(table.c.kind == sa.bindparam("kind"))
        counts.append(
            sa.select(sa.func.count())
            .select_from(matching.limit(sa.bindparam("cap", type_=sa.Integer)).subquery())
            .scalar_subquery()
        )
    return sa.select(*counts)


def count_query(filters: SearchFilters) -> tuple[sa.Select[Any], dict[str, Any]]:
    """The counting statement for the filters' shape and the values to execute it with."""
    found = conditions(filters)
    return (
        _count_shape(tuple(_way(c) for c in found), filters.kind is not None),
        {**_values(filters, found), "cap": ranking.COUNT_CAP},
    )


def count_statement(filters: SearchFilters) -> sa.Select[Any]:
    """`count_query` with its values bound (for EXPLAIN)."""
    statement, values = count_query(filters)
    return statement.params(values)


def _values(filters: SearchFilters, found: list[Condition]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if filters.kind is not None:
        values["kind"] = filters.kind
    for number, condition in enumerate(found):
        values[f"low{number}"] = condition.low
        if condition.high is not None:
            values[f"high{number}"] = condition.high
    return values


def _on(terms: Any, number: int, is_prefix: bool) -> sa.ColumnElement[bool]:
    """Condition `number` of a statement shape, its values left as bind parameters."""
    if not is_prefix:
        return terms.c.term == sa.bindparam(f"low{number}")
    return sa.and_(
        terms.c.term >= sa.bindparam(f"low{number}"), terms.c.term < sa.bindparam(f"high{number}")
    )


Way = str
"""How a condition is read: `exact` (a term), `range` (a prefix range of name terms) or
`stored` (a stored name prefix: an equality on search_prefixes when it starts the search,
the same prefix range of the terms when it is probed)."""


def _way(condition: Condition) -> Way:
    if condition.stored:
        return "stored"
    return "range" if condition.is_prefix else "exact"


def _probe(number: int, way: Way, of: Any) -> sa.Exists:
    """Does the fiche of `of` (a row with sort_key, kind and fiche_id) meet condition
    `number`? A stored prefix is one primary-key lookup of search_prefixes: as a range
    probe of the terms, the planner sometimes scanned the whole range per fiche (measured
    at 300,000 providers: `q=<first name> <last name>` queries of 40 s)."""
    if way == "stored":
        prefixes = search_prefixes.alias(f"t{number}")
        return sa.exists().where(
            prefixes.c.prefix == sa.bindparam(f"low{number}"),
            prefixes.c.sort_key == of.c.sort_key,
            prefixes.c.kind == of.c.kind,
            prefixes.c.fiche_id == of.c.fiche_id,
        )
    terms = search_terms.alias(f"t{number}")
    return sa.exists().where(
        _on(terms, number, way == "range"),
        terms.c.kind == of.c.kind,
        terms.c.fiche_id == of.c.fiche_id,
    )


@functools.lru_cache(maxsize=512)
def _statement_shape(ways: tuple[Way, ...], driver: int | None, with_kind: bool) -> sa.Select[Any]:
    """The search statement for one combination of filters, built once per process.

    Only the shape (which conditions, which is the start, whether a kind is asked) makes
    the statement; the values are bind parameters. Building it per request (aliases,
    column collections) cost about a third of a search's CPU under load.
    """
    docs = search_documents
    limit, offset = (
        sa.bindparam("limit", type_=sa.Integer),
        sa.bindparam("offset", type_=sa.Integer),
    )
    if driver is None:
        walk = sa.select(docs.c.document)
        if with_kind:
            walk = walk.where(docs.c.kind == sa.bindparam("kind"))
        for number, way in enumerate(ways):
            walk = walk.where(_probe(number, way, docs))
        return (
            walk.order_by(docs.c.sort_key, docs.c.kind, docs.c.fiche_id).limit(limit).offset(offset)
        )
    if ways[driver] == "stored":
        start: Any = search_prefixes.alias("start")
        starts = start.c.prefix == sa.bindparam(f"low{driver}")
    else:
        start = search_terms.alias("start")
        starts = _on(start, driver, ways[driver] == "range")
    page = sa.select(start.c.sort_key, start.c.kind, start.c.fiche_id).where(starts)
    if with_kind:
        page = page.where(start.c.kind == sa.bindparam("kind"))
    for number, way in enumerate(ways):
        if number != driver:
            page = page.where(_probe(number, way, start))
    if ways[driver] != "exact":
        page = page.distinct()  # a name may have two words with the same prefix
    hits = (
        page.order_by(start.c.sort_key, start.c.kind, start.c.fiche_id)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    return (
        sa.select(docs.c.document)
        .join_from(hits, docs, (docs.c.kind == hits.c.kind) & (docs.c.fiche_id == hits.c.fiche_id))
        .order_by(hits.c.sort_key, hits.c.kind, hits.c.fiche_id)
    )


def search_query(
    filters: SearchFilters, driver: int | None, *, limit: int, offset: int
) -> tuple[sa.Select[Any], dict[str, Any]]:
    """The statement for the filters' shape and the values to execute it with."""
    found = conditions(filters)
    values: dict[str, Any] = {"limit": limit, "offset": offset, **_values(filters, found)}
    shape = _statement_shape(tuple(_way(c) for c in found), driver, filters.kind is not None)
    return shape, values


def search_statement(
    filters: SearchFilters, driver: int | None, *, limit: int, offset: int
) -> sa.Select[Any]:
    """Published hits matching every filter, by name, then kind and id (a stable order),
    with the values bound (for EXPLAIN; searches execute `search_query`'s pair)."""
    statement, values = search_query(filters, driver, limit=limit, offset=offset)
    return statement.params(values)


async def _counts(
    connection: AsyncConnection, filters: SearchFilters, cache: SelectivityCache | None
) -> Sequence[int]:
    found = conditions(filters)
    cached = [cache.get(filters.kind, c) if cache else None for c in found]
    if all(count is not None for count in cached):
        return [int(count or 0) for count in cached]
    statement, values = count_query(filters)
    counts = list((await fetch_rows(connection, statement, values))[0])
    if cache is not None:
        for condition, count in zip(found, counts, strict=True):
            cache.put(filters.kind, condition, count)
    return counts


async def run_search(
    connection: AsyncConnection,
    filters: SearchFilters,
    *,
    limit: int,
    offset: int,
    cache: SelectivityCache | None = None,
) -> list[str]:
    """The JSON documents of one page of hits."""
    counts = await _counts(connection, filters, cache) if needs_counts(filters) else None
    statement, values = search_query(
        filters, choose_driver(filters, counts), limit=limit, offset=offset
    )
    return [row[0] for row in await fetch_rows(connection, statement, values)]
