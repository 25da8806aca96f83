"""Searching near a place: published fiches within a radius, nearest first.

The practices' points come from `practice_places` through a latitude/longitude box (an
index range), the exact distance is computed here, and a provider is as near as the
nearest published practice where their offer is linked. The other filters of the search
are then checked on the term index for those candidates only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from directory.adapters.search_queries import condition_on
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


async def run_near_search(
    connection: AsyncConnection, filters: SearchFilters, near: Near, *, limit: int, offset: int
) -> list[str]:
    """The JSON documents of one page of hits in the circle, nearest first, each with its
    `distance_km` (ties: by name, then kind and id, so pages are stable)."""
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
    return [
        # The stored hit is JSON text ending in `}`: the distance is added without decoding.
        f'{documents[key][1][:-1]},"distance_km":{round(distances[key], 2)}}}'
        for key in ordered[offset : offset + limit]
    ]
