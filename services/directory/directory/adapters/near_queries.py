"""Searching near a place: published fiches within a radius, nearest first.

The practices' points come from `practice_places` through a latitude/longitude box (an
index range), the exact distance is computed for each, and a provider is as near as the
nearest published practice where their offer is linked. The other filters of the search
are then checked on the term index for those candidates only.

On PostgreSQL that is one statement that returns only the page (`_page_statement`): a
circle around Brussels of 10 km holds about 12,000 fiches at 300,000 providers, whose
documents the process used to read, sort and cut itself (0.6 s a search). It is asked of
a smaller circle first, which in a city holds the page already (`_page_within_reach`).
SQLite reads the candidates and sorts them here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from directory.adapters.search_queries import condition_on
from directory.adapters.sql_distance import (
    circle_values,
    sql_distance_km,
    sql_metres,
    sql_within_radius,
)
from directory.adapters.tables import (
    practice_places,
    search_documents,
    search_offers,
    search_providers,
    search_terms,
)
from directory.domain.documents import PRACTICE, PROVIDER
from directory.domain.geo import Point, bounding_box, distance_km
from directory.domain.ranking import SearchFilters, conditions

_CHUNK = 500
# A near page on PostgreSQL is asked of a circle this many times smaller first, then of
# circles `_REACH_GROWTH` times wider up to the radius (`_page_within_reach`); a page's
# last hit must lie a metre inside a smaller circle (distances order rounded to metres).
_FIRST_REACH_SHARE = 16
_REACH_GROWTH = 4
_SAFE_INSIDE_KM = 0.001


@dataclass(frozen=True)
class Near:
    """A circle on the map."""

    centre: Point
    radius_km: float


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(set(values))
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def practices_within(connection: AsyncConnection, near: Near) -> dict[str, float]:
    """Published practices with an address in the circle: id -> distance of the nearest."""
    box = bounding_box(near.centre, near.radius_km)
    rows = await connection.execute(
        sa.select(
            practice_places.c.practice_id, practice_places.c.latitude, practice_places.c.longitude
        ).where(
            practice_places.c.latitude.between(box.min_latitude, box.max_latitude),
            practice_places.c.longitude.between(box.min_longitude, box.max_longitude),
        )
    )
    found: dict[str, float] = {}
    for practice_id, latitude, longitude in rows:
        distance = distance_km(near.centre, Point(latitude, longitude))
        if distance <= near.radius_km and distance < found.get(practice_id, float("inf")):
            found[practice_id] = distance
    return found


async def providers_at(
    connection: AsyncConnection, practices: dict[str, float]
) -> dict[str, float]:
    """Published providers linked to these practices: id -> distance of the nearest."""
    found: dict[str, float] = {}
    for chunk in _chunks(practices):
        rows = await connection.execute(
            sa.select(search_offers.c.provider_fiche_id, search_offers.c.practice_id)
            .join(
                search_providers,
                search_providers.c.fiche_id == search_offers.c.provider_fiche_id,
            )
            .where(search_offers.c.practice_id.in_(chunk), search_providers.c.published)
        )
        for provider_id, practice_id in rows:
            distance = practices[practice_id]
            if distance < found.get(provider_id, float("inf")):
                found[provider_id] = distance
    return found


async def _matching(
    connection: AsyncConnection, filters: SearchFilters, kind: str, ids: set[str]
) -> set[str]:
    """The candidates of one kind that meet every other filter of the search."""
    for condition in conditions(filters):
        if not ids:
            break
        kept: set[str] = set()
        for chunk in _chunks(ids):
            rows = await connection.execute(
                sa.select(search_terms.c.fiche_id)
                .where(
                    condition_on(condition, search_terms),
                    search_terms.c.kind == kind,
                    search_terms.c.fiche_id.in_(chunk),
                )
                .distinct()
            )
            kept.update(rows.scalars())
        ids = kept
    return ids


def _with_distance(document: str, distance: float) -> str:
    # The stored hit is JSON text ending in `}`: the distance is added without decoding.
    return f'{document[:-1]},"distance_km":{round(distance, 2)}}}'


def _hits_in_circle(filters: SearchFilters, near: Near) -> Any:
    """(kind, fiche_id, exact distance) of the fiches of the search's kind in the circle:
    practices by their nearest place, providers by their nearest such practice where
    they are published, computed as `practices_within` and `providers_at` compute them."""
    places = practice_places
    box = bounding_box(near.centre, near.radius_km)
    exact = sql_distance_km(places.c.latitude, places.c.longitude)
    practices = (
        sa.select(places.c.practice_id.label("fiche_id"), sa.func.min(exact).label("exact"))
        .where(
            places.c.latitude.between(box.min_latitude, box.max_latitude),
            places.c.longitude.between(box.min_longitude, box.max_longitude),
            sql_within_radius(exact),
        )
        .group_by(places.c.practice_id)
        .cte("practices_in_circle")
    )
    parts: list[sa.Select[Any]] = []
    if filters.kind in (None, PRACTICE):
        parts.append(
            sa.select(sa.literal(PRACTICE).label("kind"), practices.c.fiche_id, practices.c.exact)
        )
    if filters.kind in (None, PROVIDER):
        offers = search_offers
        parts.append(
            sa.select(
                sa.literal(PROVIDER).label("kind"),
                offers.c.provider_fiche_id.label("fiche_id"),
                sa.func.min(practices.c.exact).label("exact"),
            )
            .join_from(practices, offers, offers.c.practice_id == practices.c.fiche_id)
            .join(search_providers, search_providers.c.fiche_id == offers.c.provider_fiche_id)
            .where(search_providers.c.published)
            .group_by(offers.c.provider_fiche_id)
        )
    return (sa.union_all(*parts) if len(parts) > 1 else parts[0]).subquery("hits")


def _page_statement(filters: SearchFilters, near: Near, *, limit: int, offset: int) -> Any:
    """One page of the hits in the circle that meet every other filter, with their
    documents, in page order: the distance rounded to metres as Python rounds it, then
    the sort key, kind and id in code point order, as the sort in Python.

    Only the hits up to the page's last distance are read with their documents (for the
    sort key): the `offset + limit`-th nearest distance is found first, from the hits
    alone. Around a municipality's centre most hits are farther than a page reaches."""
    hits = _hits_in_circle(filters, near)
    metres = sql_metres(hits.c.exact)
    found = sa.select(hits.c.kind, hits.c.fiche_id, hits.c.exact, metres.label("metres"))
    for number, condition in enumerate(conditions(filters)):
        terms = search_terms.alias(f"t{number}")
        found = found.where(
            sa.exists().where(
                terms.c.kind == hits.c.kind,
                terms.c.fiche_id == hits.c.fiche_id,
                condition_on(condition, terms),
            )
        )
    matching = found.cte("matching")
    page_reaches = (
        sa.select(matching.c.metres)
        .order_by(matching.c.metres)
        .offset(offset + limit - 1)
        .limit(1)
        .scalar_subquery()
    )
    documents = search_documents
    return (
        sa.select(documents.c.document, matching.c.exact)
        .join_from(
            matching,
            documents,
            (documents.c.kind == matching.c.kind) & (documents.c.fiche_id == matching.c.fiche_id),
        )
        .where(matching.c.metres <= sa.func.coalesce(page_reaches, float("inf")))
        .order_by(
            matching.c.metres,
            documents.c.sort_key,
            matching.c.kind.collate("C"),
            matching.c.fiche_id.collate("C"),
        )
        .limit(limit)
        .offset(offset)
    )


async def _page_within_reach(
    connection: AsyncConnection, filters: SearchFilters, near: Near, *, limit: int, offset: int
) -> list[tuple[str, float]]:
    """The page of `_page_statement`, asked first of a circle with a sixteenth of the
    search's radius, then of one four times wider, until the page is whole (PostgreSQL).

    A smaller circle gives the same page when its page is full and the page's last hit
    lies at least `_SAFE_INSIDE_KM` inside it: every hit outside is farther than
    `reach_km`, so at least a metre farther once rounded, and sorts after the page. In a
    city a page of the nearest fiches lies a few hundred metres around the centre, where
    the whole circle of 10 km held 12,000 fiches to aggregate and order. A page the
    smaller circles cannot fill costs them on top of the whole circle: they hold about a
    256th and a sixteenth of its area."""
    reach_km = near.radius_km / _FIRST_REACH_SHARE
    while True:
        reach_km = min(reach_km, near.radius_km)
        rows = await connection.execute(
            _page_statement(filters, Near(near.centre, reach_km), limit=limit, offset=offset),
            circle_values(near.centre, reach_km),
        )
        page = [(document, exact) for document, exact in rows]
        if reach_km == near.radius_km:
            return page
        if page and len(page) == limit and page[-1][1] <= reach_km - _SAFE_INSIDE_KM:
            return page
        reach_km *= _REACH_GROWTH


async def run_near_search(
    connection: AsyncConnection, filters: SearchFilters, near: Near, *, limit: int, offset: int
) -> list[str]:
    """The JSON documents of one page of hits in the circle, nearest first, each with its
    `distance_km` (ties: by name, then kind and id, so pages are stable)."""
    if connection.dialect.name == "postgresql":
        page = await _page_within_reach(connection, filters, near, limit=limit, offset=offset)
    else:
        page = await page_read_in_python(connection, filters, near, limit=limit, offset=offset)
    return [_with_distance(document, exact) for document, exact in page]


async def page_read_in_python(
    connection: AsyncConnection, filters: SearchFilters, near: Near, *, limit: int, offset: int
) -> list[tuple[str, float]]:
    """The page as SQLite gives it: every candidate in the circle read, sorted here. On
    PostgreSQL too it is the reference the one-statement page is tested against."""
    practices = await practices_within(connection, near)
    distances: dict[tuple[str, str], float] = {}
    if filters.kind in (None, PRACTICE):
        distances.update({(PRACTICE, pid): d for pid, d in practices.items()})
    if filters.kind in (None, PROVIDER):
        providers = await providers_at(connection, practices)
        distances.update({(PROVIDER, pid): d for pid, d in providers.items()})
    kept: set[tuple[str, str]] = set()
    for kind in (PROVIDER, PRACTICE):
        ids = {fiche_id for k, fiche_id in distances if k == kind}
        kept |= {(kind, fiche_id) for fiche_id in await _matching(connection, filters, kind, ids)}
    documents: dict[tuple[str, str], tuple[str, str]] = {}
    for kind in (PROVIDER, PRACTICE):
        for chunk in _chunks(fiche_id for k, fiche_id in kept if k == kind):
            rows = await connection.execute(
                sa.select(
                    search_documents.c.fiche_id,
                    search_documents.c.sort_key,
                    search_documents.c.document,
                ).where(search_documents.c.kind == kind, search_documents.c.fiche_id.in_(chunk))
            )
            for fiche_id, sort_key, document in rows:
                documents[(kind, fiche_id)] = (sort_key, document)
    ordered = sorted(documents, key=lambda key: (round(distances[key], 3), documents[key][0], *key))
    return [(documents[key][1], distances[key]) for key in ordered[offset : offset + limit]]
