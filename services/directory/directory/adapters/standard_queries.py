"""Finding FHIR and HSDS resources: by id, terms, name prefixes, time, activity and place.

Every filter on what a resource is found by is a probe of `standard_terms`, whose primary
key (standard, type, term, id) hands out a term's resources in id order; pages are in id
order (or by distance near a place) and read with limit/offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from directory.adapters.tables import standard_resources, standard_terms
from directory.domain.geo import Point, bounding_box, distance_km
from directory.domain.resources import HSDS
from directory.domain.text import prefix_range

_COMPARE = {
    "eq": "__eq__",
    "ge": "__ge__",
    "gt": "__gt__",
    "le": "__le__",
    "lt": "__lt__",
}


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
    active: bool | None = None
    updated: tuple[tuple[str, datetime], ...] = ()
    """(`eq`|`ge`|`gt`|`le`|`lt`, instant) on the last update."""
    near: Circle | None = None


@dataclass(frozen=True)
class Found:
    id: str
    version: int
    last_updated: datetime
    active: bool
    content: str
    distance_km: float | None = None


def _probes(query: ResourceQuery) -> list[tuple[str, ...]]:
    """The term conditions: ("in", term, ...) or ("range", low, high)."""
    found: list[tuple[str, ...]] = [("in", *group) for group in query.any_terms]
    found += [("range", *prefix_range(f"n:{word}")) for word in query.name_prefixes]
    return found


def _matches(terms: Any, probe: tuple[str, ...]) -> sa.ColumnElement[bool]:
    if probe[0] == "in":
        return terms.c.term.in_(probe[1:])
    return sa.and_(terms.c.term >= probe[1], terms.c.term < probe[2])


def _where(query: ResourceQuery, probes: list[tuple[str, ...]]) -> list[sa.ColumnElement[bool]]:
    """Conditions on the resource table; `probes` are checked per resource (exists)."""
    table = standard_resources
    found: list[sa.ColumnElement[bool]] = [
        table.c.standard == query.standard,
        table.c.type == query.type,
    ]
    if query.ids:
        found.append(table.c.id.in_(query.ids))
    if query.active is not None:
        found.append(table.c.active == query.active)
    for operator, instant in query.updated:
        found.append(getattr(table.c.last_updated, _COMPARE[operator])(instant))
    for number, probe in enumerate(probes):
        terms = standard_terms.alias(f"t{number}")
        found.append(
            sa.exists().where(
                terms.c.standard == table.c.standard,
                terms.c.type == table.c.type,
                terms.c.id == table.c.id,
                _matches(terms, probe),
            )
        )
    if query.near is not None:
        box = bounding_box(query.near.centre, query.near.radius_km)
        found.append(table.c.latitude.between(box.min_latitude, box.max_latitude))
        found.append(table.c.longitude.between(box.min_longitude, box.max_longitude))
    return found


def _statement(query: ResourceQuery, columns: list[Any]) -> tuple[sa.Select[Any], Any]:
    """Matching resources. With a term condition, the search starts from the term index
    (its entries come in id order: a page reads little more than a page) and checks the
    rest per resource; without one, it walks the resources. Returns the statement and the
    id column pages are ordered by."""
    probes = _probes(query)
    if not probes:
        return sa.select(*columns).where(*_where(query, [])), standard_resources.c.id
    start = standard_terms.alias("start")
    table = standard_resources
    first = probes[0]
    ids = sa.select(start.c.id).where(
        start.c.standard == query.standard, start.c.type == query.type, _matches(start, first)
    )
    if first[0] == "range" or len(first) > 2:
        ids = ids.distinct()  # one resource can have several of these terms
    driver = ids.subquery("driver")
    statement = (
        sa.select(*columns)
        .select_from(driver)
        .join(
            table,
            (table.c.standard == query.standard)
            & (table.c.type == query.type)
            & (table.c.id == driver.c.id),
        )
        .where(*_where(query, probes[1:]))
    )
    # Pages follow the driver's order (the term index), so reading stops after a page.
    return statement, driver.c.id


def _columns() -> list[Any]:
    table = standard_resources
    return [
        table.c.id,
        table.c.version,
        table.c.last_updated,
        table.c.active,
        table.c.content,
        table.c.latitude,
        table.c.longitude,
    ]


async def find(
    connection: AsyncConnection, query: ResourceQuery, *, limit: int, offset: int
) -> list[Found]:
    """One page of matching resources, in id order (nearest first with `near`)."""
    if query.near is not None:
        return await _find_near(connection, query, limit=limit, offset=offset)
    statement, order = _statement(query, _columns())
    rows = await connection.execute(statement.order_by(order).limit(limit).offset(offset))
    return [Found(r.id, r.version, r.last_updated, r.active, r.content) for r in rows]


@dataclass(frozen=True)
class _Ring:
    """The matching resources at one distance (rounded to metres) from a near search's
    centre: they share one or more points (a municipality's centroid holds hundreds)."""

    distance_km: float
    points: tuple[tuple[float, float], ...]
    count: int


async def _rings(connection: AsyncConnection, query: ResourceQuery) -> list[_Ring]:
    """Matching resources in the circle, per distance, nearest first: one grouped read of
    the bounding box (an index range on the place index), distances per distinct point."""
    assert query.near is not None
    table = standard_resources
    statement, _ = _statement(query, [table.c.latitude, table.c.longitude, sa.func.count()])
    rows = await connection.execute(statement.group_by(table.c.latitude, table.c.longitude))
    by_distance: dict[float, list[tuple[float, float, int]]] = {}
    for latitude, longitude, number in rows:
        distance = distance_km(query.near.centre, Point(latitude, longitude))
        if distance <= query.near.radius_km:
            by_distance.setdefault(round(distance, 3), []).append((latitude, longitude, number))
    return [
        _Ring(d, tuple((lat, lng) for lat, lng, _ in found), sum(n for _, _, n in found))
        for d, found in sorted(by_distance.items())
    ]


async def _ids_in_ring(
    connection: AsyncConnection, query: ResourceQuery, ring: _Ring, *, skip: int, take: int
) -> list[str]:
    table = standard_resources
    statement, order = _statement(query, [table.c.id])
    at = sa.or_(
        *(sa.and_(table.c.latitude == lat, table.c.longitude == lng) for lat, lng in ring.points)
    )
    rows = await connection.execute(statement.where(at).order_by(order).limit(take).offset(skip))
    return list(rows.scalars())


async def _find_near(
    connection: AsyncConnection, query: ResourceQuery, *, limit: int, offset: int
) -> list[Found]:
    """Nearest first (ties by id): the rings that overlap the page, then the page's ids in
    them, then only the page's resources are read."""
    page: list[tuple[str, float]] = []
    start = 0
    for ring in await _rings(connection, query):
        end = start + ring.count
        if end > offset and start < offset + limit:
            skip = max(0, offset - start)
            take = min(ring.count, offset + limit - start) - skip
            ids = await _ids_in_ring(connection, query, ring, skip=skip, take=take)
            page += [(i, ring.distance_km) for i in ids]
        if end >= offset + limit:
            break
        start = end
    if not page:
        return []
    found = {
        f.id: f for f in await by_ids(connection, query.standard, query.type, [i for i, _ in page])
    }
    return [
        Found(f.id, f.version, f.last_updated, f.active, f.content, distance)
        for i, distance in page
        if (f := found.get(i)) is not None
    ]


async def count(connection: AsyncConnection, query: ResourceQuery) -> int:
    """How many resources match (HSDS pages say so)."""
    if query.near is not None:
        return sum(ring.count for ring in await _rings(connection, query))
    probes = _probes(query)
    if _terms_alone_count(query, probes):
        return await _count_terms(connection, query, probes)
    matching = _statement(query, [standard_resources.c.id])[0].subquery()
    statement = sa.select(sa.func.count()).select_from(matching)
    return int((await connection.execute(statement)).scalar_one())


def _terms_alone_count(query: ResourceQuery, probes: list[tuple[str, ...]]) -> bool:
    """An HSDS record keeps terms only while active (handlers/standards.py), so a count of
    active HSDS records by terms needs the term index alone (index-only, no row reads)."""
    return (
        query.standard == HSDS
        and query.active is True
        and bool(probes)
        and not (query.ids or query.updated or query.near)
    )


async def _count_terms(
    connection: AsyncConnection, query: ResourceQuery, probes: list[tuple[str, ...]]
) -> int:
    start = standard_terms.alias("start")
    statement = sa.select(sa.func.count(sa.distinct(start.c.id))).where(
        start.c.standard == query.standard, start.c.type == query.type, _matches(start, probes[0])
    )
    for number, probe in enumerate(probes[1:]):
        terms = standard_terms.alias(f"t{number}")
        statement = statement.where(
            sa.exists().where(
                terms.c.standard == start.c.standard,
                terms.c.type == start.c.type,
                terms.c.id == start.c.id,
                _matches(terms, probe),
            )
        )
    return int((await connection.execute(statement)).scalar_one())


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


async def changed_since(
    connection: AsyncConnection,
    standard: str,
    type_: str,
    since: datetime | None,
    *,
    limit: int,
    offset: int,
) -> list[Found]:
    """Resources changed after `since` (all without), oldest change first."""
    table = standard_resources
    statement = sa.select(*_columns()).where(table.c.standard == standard, table.c.type == type_)
    if since is not None:
        statement = statement.where(table.c.last_updated > since)
    rows = await connection.execute(
        statement.order_by(table.c.last_updated, table.c.id).limit(limit).offset(offset)
    )
    return [Found(r.id, r.version, r.last_updated, r.active, r.content) for r in rows]
