"""Finding FHIR and HSDS resources: by id, terms, name prefixes, time, activity and place.

Pages are in id order (or by distance near a place) and read with limit/offset; the
statements are built once per shape (adapters/resource_statements.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from directory.adapters.driver_rows import fetch_rows
from directory.adapters.resource_statements import (
    Conditions,
    Kind,
    Shape,
    places_in_box,
    statement,
)
from directory.adapters.sql_distance import circle_values
from directory.adapters.tables import standard_resources
from directory.domain.geo import Point, bounding_box, distance_km
from directory.domain.resources import HSDS
from directory.domain.text import prefix_is_stored, prefix_range


@dataclass(frozen=True)
class Circle:
    centre: Point
    radius_km: float


@dataclass(frozen=True)
class ResourceQuery:
    """A validated search over one type of one standard."""

    standard: str
    type: str
    ids: tuple[str, ...] = ()
    any_terms: tuple[tuple[str, ...], ...] = ()
    """Each group: the resource has at least one of these terms; groups combine with AND."""
    name_prefixes: tuple[str, ...] = ()
    """Each a word the resource's name has a word starting with."""
    term_prefixes: tuple[str, ...] = ()
    """Each the start of a term the resource has (`family:peet`): read as a range of terms."""
    active: bool | None = None
    updated: tuple[tuple[str, datetime], ...] = ()
    """(`eq`|`ge`|`gt`|`le`|`lt`, instant) on the last update."""
    near: Circle | None = None


class Found(NamedTuple):
    """A resource as read: a named tuple, where a frozen dataclass's constructor (a
    `object.__setattr__` per field) cost a microsecond a row, 20 to 50 rows a page."""

    id: str
    version: int
    last_updated: datetime
    active: bool
    content: str
    distance_km: float | None = None


def _conditions(query: ResourceQuery) -> Conditions:
    probes: list[tuple[str, ...]] = [("in", *group) for group in query.any_terms]
    probes += [
        ("prefix", f"n:{word}") if prefix_is_stored(word) else ("range", *prefix_range(f"n:{word}"))
        for word in query.name_prefixes
    ]
    probes += [("range", *prefix_range(start)) for start in query.term_prefixes]
    box = bounding_box(query.near.centre, query.near.radius_km) if query.near else None
    return Conditions(
        query.standard,
        query.type,
        tuple(probes),
        query.ids,
        query.active,
        query.updated,
        box,
    )


def _found(rows: Any) -> list[Found]:
    """Rows of (id, version, last_updated, active, content), read by position."""
    return [Found(r[0], r[1], r[2], r[3], r[4]) for r in rows]


async def find(
    connection: AsyncConnection, query: ResourceQuery, *, limit: int, offset: int
) -> list[Found]:
    """One page of matching resources, in id order (nearest first with `near`)."""
    if query.near is not None:
        return await _find_near(connection, query, limit=limit, offset=offset)
    conditions = _conditions(query)
    kind: Kind = "page"
    if _terms_alone(query):
        conditions, kind = replace(conditions, active=None), "page_terms"
    rows = await fetch_rows(
        connection,
        statement(conditions.shape(kind)),
        {**conditions.values(), "limit": limit, "offset": offset},
    )
    return _found(rows)


@dataclass(frozen=True)
class _Ring:
    """The matching resources at one distance (rounded to metres) from a near search's
    centre: they share one or more points (a municipality's centroid holds hundreds)."""

    distance_km: float
    points: tuple[tuple[float, float], ...]
    count: int


_MOST_POINTS = 200
"""Beyond this many distinct points in a circle, the resources are grouped from the box."""


async def _points_within(connection: AsyncConnection, circle: Circle) -> list[tuple[float, float]]:
    box = bounding_box(circle.centre, circle.radius_km)
    rows = await fetch_rows(
        connection,
        places_in_box(),
        {
            "lat_min": box.min_latitude,
            "lat_max": box.max_latitude,
            "lng_min": box.min_longitude,
            "lng_max": box.max_longitude,
        },
    )
    return [
        (lat, lng)
        for lat, lng in rows
        if distance_km(circle.centre, Point(lat, lng)) <= circle.radius_km
    ]


def _at(
    conditions: Conditions,
    kind: Kind,
    points: list[tuple[float, float]],
    values: dict[str, Any],
) -> Shape:
    """The shape of a statement reading the resources at these points (none: anywhere in
    the box), a pair of values each added to `values`."""
    for number, (latitude, longitude) in enumerate(points):
        values[f"lat{number}"], values[f"lng{number}"] = latitude, longitude
    return conditions.shape(kind, ring_points=len(points))


async def _rings(connection: AsyncConnection, query: ResourceQuery) -> list[_Ring]:
    """Matching resources in the circle, per distance, nearest first. The points come from
    the practices' places (a small table), the resources are counted at those points (an
    equality on the place index each); many points: one grouped read of the box."""
    assert query.near is not None
    conditions = _conditions(query)
    values = conditions.values()
    points = await _points_within(connection, query.near)
    if not points:
        return []
    at_points = points if len(points) <= _MOST_POINTS else []
    shape = _at(conditions, "points", at_points, values)
    rows = await fetch_rows(connection, statement(shape), values)
    by_distance: dict[float, list[tuple[float, float, int]]] = {}
    for latitude, longitude, number in rows:
        distance = distance_km(query.near.centre, Point(latitude, longitude))
        if distance <= query.near.radius_km:
            by_distance.setdefault(round(distance, 3), []).append((latitude, longitude, number))
    return [
        _Ring(d, tuple((lat, lng) for lat, lng, _ in found), sum(n for _, _, n in found))
        for d, found in sorted(by_distance.items())
    ]


async def _page_in_ring(
    connection: AsyncConnection, query: ResourceQuery, ring: _Ring, *, skip: int, take: int
) -> list[Found]:
    conditions = _conditions(query)
    values = {**conditions.values(), "limit": take, "offset": skip}
    shape = _at(conditions, "page", list(ring.points), values)
    return [
        Found(r[0], r[1], r[2], r[3], r[4], ring.distance_km)
        for r in await fetch_rows(connection, statement(shape), values)
    ]


async def _find_near(
    connection: AsyncConnection, query: ResourceQuery, *, limit: int, offset: int
) -> list[Found]:
    """Nearest first (ties by id). PostgreSQL: one statement
    (resource_statements._nearest_page). SQLite, which has no LATERAL: the circle's
    points, the rings that overlap the page, then the page's part of each."""
    if connection.dialect.name == "postgresql":
        return await _nearest(connection, query, limit=limit, offset=offset)
    page: list[Found] = []
    start = 0
    for ring in await _rings(connection, query):
        end = start + ring.count
        if end > offset and start < offset + limit:
            skip = max(0, offset - start)
            take = min(ring.count, offset + limit - start) - skip
            page += await _page_in_ring(connection, query, ring, skip=skip, take=take)
        if end >= offset + limit:
            break
        start = end
    return page


async def _nearest(
    connection: AsyncConnection, query: ResourceQuery, *, limit: int, offset: int
) -> list[Found]:
    assert query.near is not None
    conditions = _conditions(query)
    values = {
        **conditions.values(),
        **circle_values(query.near.centre, query.near.radius_km),
        "reach": offset + limit,
        "limit": limit,
        "offset": offset,
    }
    rows = await fetch_rows(connection, statement(conditions.shape("nearest")), values)
    return [Found(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def _terms_alone(query: ResourceQuery) -> bool:
    """An HSDS record keeps terms only while active (handlers/standards.py), so the active
    HSDS records with some terms are found from the term index alone: counted without row
    reads (index-only), a page's rows read by id after its limit."""
    return (
        query.standard == HSDS
        and query.active is True
        and bool(query.any_terms or query.name_prefixes)
        and not (query.ids or query.updated or query.near)
    )


async def count(connection: AsyncConnection, query: ResourceQuery) -> int:
    """How many resources match (HSDS pages say so, also within a `proximity`; FHIR
    pages do not). Near a place: the circle's points and the matching resources at each
    (PostgreSQL: one statement, `resource_statements._nearest_count`; SQLite: `_rings`, as
    its pages read them)."""
    if query.near is not None:
        if connection.dialect.name != "postgresql":
            return sum(ring.count for ring in await _rings(connection, query))
        conditions = _conditions(query)
        values = {**conditions.values(), **circle_values(query.near.centre, query.near.radius_km)}
        return int(
            (await fetch_rows(connection, statement(conditions.shape("count_near")), values))[0][0]
        )
    conditions = _conditions(query)
    if _terms_alone(query):
        conditions = replace(conditions, active=None)
        shape = conditions.shape("count_terms")
    else:
        shape = conditions.shape("count")
    return int((await fetch_rows(connection, statement(shape), conditions.values()))[0][0])


async def counted(
    connection: AsyncConnection, query: ResourceQuery, *, limit: int, offset: int
) -> tuple[int, list[Found]]:
    """How many resources match, and one page of them (an HSDS page shows both): one
    statement for a search on terms alone, else `count` and `find`."""
    if not _terms_alone(query):
        return await count(connection, query), await find(
            connection, query, limit=limit, offset=offset
        )
    conditions = replace(_conditions(query), active=None)
    rows = await fetch_rows(
        connection,
        statement(conditions.shape("counted_page_terms")),
        {**conditions.values(), "limit": limit, "offset": offset},
    )
    return int(rows[0][0]), [Found(*r[1:6]) for r in rows if r[1] is not None]


async def by_ids(
    connection: AsyncConnection, standard: str, type_: str, ids: list[str]
) -> list[Found]:
    """Resources of one type by id (reads and _include), in id order."""
    if not ids:
        return []
    return await find(
        connection,
        ResourceQuery(standard, type_, ids=tuple(sorted(set(ids)))),
        limit=len(ids),
        offset=0,
    )


@functools.lru_cache(maxsize=8)
def _changed_since(with_since: bool, with_after: bool) -> sa.Select[Any]:
    table = standard_resources
    found = sa.select(
        table.c.id, table.c.version, table.c.last_updated, table.c.active, table.c.content
    ).where(table.c.standard == sa.bindparam("standard"), table.c.type == sa.bindparam("type"))
    if with_since:
        found = found.where(table.c.last_updated >= sa.bindparam("since"))
    if with_after:
        # After the last entry of the page before, in the history's order: a row value
        # (SQLite has them since 3.15), whose first column PostgreSQL takes as the start of
        # its scan of the update index (EXPLAIN, on the benchmark's database).
        found = found.where(
            sa.tuple_(table.c.last_updated, table.c.id)
            > sa.tuple_(
                sa.bindparam("after_updated", type_=table.c.last_updated.type),
                sa.bindparam("after_id", type_=table.c.id.type),
            )
        )
    return (
        found.order_by(table.c.last_updated, table.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )


async def changed_since(
    connection: AsyncConnection,
    standard: str,
    type_: str,
    since: datetime | None,
    *,
    limit: int,
    offset: int = 0,
    after: tuple[datetime, str] | None = None,
) -> list[Found]:
    """Resources changed at or after `since` (all without), oldest change first; with
    `after` (last_updated, id), only those after it in that order."""
    values: dict[str, Any] = {"standard": standard, "type": type_, "limit": limit, "offset": offset}
    if since is not None:
        values["since"] = since
    if after is not None:
        values["after_updated"], values["after_id"] = after
    changed = _changed_since(since is not None, after is not None)
    return _found(await connection.execute(changed, values))
