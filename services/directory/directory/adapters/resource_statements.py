"""The statements that find FHIR and HSDS resources, built once per shape.

A search's *shape* is which conditions it has (how many terms a term group offers, which
comparisons on the last update, whether a place, ...); its values (the terms, the ids, the
box) are bind parameters. Building an SQLAlchemy statement with its aliases and subqueries
per request, and generating its cache key, cost several times the query itself under load;
a shape's statement is built once per process (`functools.lru_cache`) and executed with the
request's values.

Every filter on what a resource is found by is a probe of `standard_terms`, whose primary
key (standard, type, term, id) hands out a term's resources in id order; with a term
condition the search starts from the term index (a page reads little more than a page)
and checks the rest per resource; without one it walks the resources.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from directory.adapters.prefix_totals import kept_total, totals_are_right
from directory.adapters.sql_distance import sql_distance_km, sql_metres, sql_within_radius
from directory.adapters.tables import (
    practice_places,
    standard_prefixes,
    standard_resources,
    standard_terms,
)
from directory.domain.geo import Box

Probe = tuple[str, int]
"""("in", number of terms), ("range", 2) or ("prefix", 1) (a stored name prefix of 3 to 7
characters, read from `standard_prefixes`): one term condition's shape."""

Kind = Literal[
    "page",
    "page_terms",
    "counted_page_terms",
    "ids",
    "points",
    "count",
    "count_terms",
    "nearest",
    "count_near",
]


@dataclass(frozen=True)
class Shape:
    kind: Kind
    probes: tuple[Probe, ...]
    ids: bool
    active: bool
    updated: tuple[str, ...]
    """The comparison operators on the last update, in order."""
    near: bool
    ring_points: int = 0
    """For `page` and `points` (SQLite's near searches): how many points (`lat{i}`,
    `lng{i}`) the resources are at."""


@dataclass(frozen=True)
class Conditions:
    """The values of a search: term probes, ids, activity, last-update bounds, a box."""

    standard: str
    type: str
    probes: tuple[tuple[str, ...], ...]
    """("in", term, ...), ("range", low, high) or ("prefix", stored prefix)."""
    ids: tuple[str, ...]
    active: bool | None
    updated: tuple[tuple[str, datetime], ...]
    box: Box | None

    def shape(self, kind: Kind, ring_points: int = 0) -> Shape:
        return Shape(
            kind,
            tuple((p[0], len(p) - 1) for p in self.probes),
            bool(self.ids),
            self.active is not None,
            tuple(operator for operator, _ in self.updated),
            self.box is not None,
            ring_points,
        )

    def values(self) -> dict[str, Any]:
        found: dict[str, Any] = {"standard": self.standard, "type": self.type}
        for number, probe in enumerate(self.probes):
            for position, term in enumerate(probe[1:]):
                found[f"p{number}_{position}"] = term
        if self.ids:
            found["ids"] = list(self.ids)
        if self.active is not None:
            found["active"] = self.active
        for number, (_, instant) in enumerate(self.updated):
            found[f"u{number}"] = instant
        if self.box is not None:
            found.update(
                lat_min=self.box.min_latitude,
                lat_max=self.box.max_latitude,
                lng_min=self.box.min_longitude,
                lng_max=self.box.max_longitude,
            )
        return found


def _terms(probe: Probe, name: str) -> Any:
    """The table a probe reads, aliased: the stored prefixes or the terms."""
    return (standard_prefixes if probe[0] == "prefix" else standard_terms).alias(name)


def _matches(terms: Any, number: int, probe: Probe) -> sa.ColumnElement[bool]:
    if probe[0] == "prefix":
        return terms.c.prefix == sa.bindparam(f"p{number}_0")
    if probe[0] == "in":
        if probe[1] == 1:
            return terms.c.term == sa.bindparam(f"p{number}_0")
        return terms.c.term.in_([sa.bindparam(f"p{number}_{i}") for i in range(probe[1])])
    low: sa.BindParameter[str] = sa.bindparam(f"p{number}_0")
    high: sa.BindParameter[str] = sa.bindparam(f"p{number}_1")
    return sa.and_(terms.c.term >= low, terms.c.term < high)


def _by_id(resources: Any, id_column: Any) -> sa.ColumnElement[bool]:
    """Joins the resources (the table or an alias) of the search's standard and type to
    the ids in `id_column`, by primary key."""
    return (
        (resources.c.standard == sa.bindparam("standard"))
        & (resources.c.type == sa.bindparam("type"))
        & (resources.c.id == id_column)
    )


def _same_resource(terms: Any, of: Any) -> list[sa.ColumnElement[bool]]:
    return [terms.c.standard == of.c.standard, terms.c.type == of.c.type, terms.c.id == of.c.id]


_COMPARE = {"eq": "__eq__", "ge": "__ge__", "gt": "__gt__", "le": "__le__", "lt": "__lt__"}


def _where(shape: Shape, first_probe: int) -> list[sa.ColumnElement[bool]]:
    """Conditions on the resource table; the probes from `first_probe` are checked per
    resource (exists)."""
    table = standard_resources
    found: list[sa.ColumnElement[bool]] = [
        table.c.standard == sa.bindparam("standard"),
        table.c.type == sa.bindparam("type"),
    ]
    if shape.ids:
        found.append(table.c.id.in_(sa.bindparam("ids", expanding=True)))
    if shape.active:
        found.append(table.c.active == sa.bindparam("active"))
    for number, operator in enumerate(shape.updated):
        found.append(getattr(table.c.last_updated, _COMPARE[operator])(sa.bindparam(f"u{number}")))
    for number in range(first_probe, len(shape.probes)):
        terms = _terms(shape.probes[number], f"t{number}")
        found.append(
            sa.exists().where(
                *_same_resource(terms, table), _matches(terms, number, shape.probes[number])
            )
        )
    if shape.near:
        found.append(table.c.latitude.between(sa.bindparam("lat_min"), sa.bindparam("lat_max")))
        found.append(table.c.longitude.between(sa.bindparam("lng_min"), sa.bindparam("lng_max")))
    return found


def _columns(kind: Kind) -> list[Any]:
    table = standard_resources
    if kind == "page":
        return [
            table.c.id,
            table.c.version,
            table.c.last_updated,
            table.c.active,
            table.c.content,
        ]
    if kind == "ids":
        return [table.c.id]
    if kind == "points":
        return [table.c.latitude, table.c.longitude, sa.func.count()]
    return [sa.func.count()]


def _matching(shape: Shape) -> tuple[sa.Select[Any], Any]:
    """The matching resources' columns of `shape.kind`, and the id column pages follow."""
    columns = _columns(shape.kind)
    if not shape.probes:
        return sa.select(*columns).where(*_where(shape, 0)), standard_resources.c.id
    start = _terms(shape.probes[0], "start")
    table = standard_resources
    ids = sa.select(start.c.id).where(
        start.c.standard == sa.bindparam("standard"),
        start.c.type == sa.bindparam("type"),
        _matches(start, 0, shape.probes[0]),
    )
    if shape.probes[0] != ("in", 1):
        ids = ids.distinct()  # one resource can have several of these terms
    driver = ids.subquery("driver")
    statement = (
        sa.select(*columns)
        .select_from(driver)
        .join(table, _by_id(table, driver.c.id))
        .where(*_where(shape, 1))
    )
    # Pages follow the driver's order (the term index), so reading stops after a page.
    return statement, driver.c.id


@functools.lru_cache(maxsize=1)
def places_in_box() -> sa.Select[Any]:
    """The distinct points of practice addresses in a box (every point a FHIR or HSDS
    resource has is one of them)."""
    return (
        sa.select(practice_places.c.latitude, practice_places.c.longitude)
        .where(
            practice_places.c.latitude.between(sa.bindparam("lat_min"), sa.bindparam("lat_max")),
            practice_places.c.longitude.between(sa.bindparam("lng_min"), sa.bindparam("lng_max")),
        )
        .distinct()
    )


@functools.lru_cache(maxsize=1024)
def statement(shape: Shape) -> sa.Select[Any]:
    """The statement of one shape; its values are `Conditions.values()` plus, per kind,
    `limit`/`offset` (page, ids), the points' `lat{i}`/`lng{i}` (page, points), or
    `centre_lat`, `centre_lng`, `radius_km`, `reach`, `limit` and `offset` (nearest)."""
    if shape.kind == "count_terms":
        return _terms_alone_count(shape)
    if shape.kind == "page_terms":
        return _terms_alone_page(shape)
    if shape.kind == "counted_page_terms":
        return _terms_alone_counted_page(shape)
    if shape.kind == "nearest":
        return _nearest_page(shape)
    if shape.kind == "count_near":
        return _nearest_count(shape)
    if shape.kind == "page" and not (shape.probes or shape.ids or shape.near):
        return _walked_page(shape)
    found, order = _matching(shape)
    table = standard_resources
    if shape.ring_points:
        found = found.where(
            sa.or_(
                *(
                    sa.and_(
                        table.c.latitude == sa.bindparam(f"lat{i}"),
                        table.c.longitude == sa.bindparam(f"lng{i}"),
                    )
                    for i in range(shape.ring_points)
                )
            )
        )
    if shape.kind == "points":
        return found.group_by(table.c.latitude, table.c.longitude)
    if shape.kind == "count":
        return sa.select(sa.func.count()).select_from(
            _matching(Shape("ids", *_rest(shape)))[0].subquery()
        )
    return _one_page(found.order_by(order))


def _one_page(found: sa.Select[Any]) -> sa.Select[Any]:
    """`found` cut to one page: the `limit` and `offset` values."""
    return found.limit(sa.bindparam("limit", type_=sa.Integer)).offset(
        sa.bindparam("offset", type_=sa.Integer)
    )


def _rows_of(driver: Any) -> sa.Select[Any]:
    """The rows of the ids in `driver` (a subquery with an `id` column) by primary key, in
    the driver's id order: a page whose ids were found before its rows were read."""
    table = standard_resources
    return (
        sa.select(*_columns("page"))
        .select_from(driver)
        .join(table, _by_id(table, driver.c.id))
        .order_by(driver.c.id)
    )


def _walked_page(shape: Shape) -> sa.Select[Any]:
    """A page of a list without a term to start from (`/hsds/services`): its ids first, in
    id order with the limit and offset applied there, then their rows by primary key. On
    (standard, type, active, id) the ids are read from the index alone (migration 0010):
    reading whole rows in id order, a page far into the list read every row before it
    (1.5 s for HSDS services' page 1,000 of 200 at 300,000 providers)."""
    table = standard_resources
    ids = sa.select(table.c.id).where(*_where(shape, 0)).order_by(table.c.id)
    return _rows_of(_one_page(ids).subquery("walked"))


def _rest(shape: Shape) -> tuple[Any, ...]:
    return (
        shape.probes,
        shape.ids,
        shape.active,
        shape.updated,
        shape.near,
        shape.ring_points,
    )


def _circle_points() -> Any:
    """The distinct points of practice addresses within `radius_km` of the centre (read
    through the box), each with its distance rounded to metres (`sql_metres`).

    `OFFSET 0` keeps PostgreSQL from pushing the radius test into the box's scan: pushed
    down, the distance was computed for every practice in the box (536 for a 5 km circle
    at 300,000 providers) before the DISTINCT left its 3 points, measured as about a
    tenth of the statement's backend CPU (docs/benchmarks.md, 2026-12-01 night)."""
    places = practice_places
    points = (
        sa.select(places.c.latitude.label("lat"), places.c.longitude.label("lng"))
        .where(
            places.c.latitude.between(sa.bindparam("lat_min"), sa.bindparam("lat_max")),
            places.c.longitude.between(sa.bindparam("lng_min"), sa.bindparam("lng_max")),
        )
        .distinct()
        .offset(sa.literal_column("0"))
        .subquery("points")
    )
    exact = sql_distance_km(points.c.lat, points.c.lng)
    return (
        sa.select(points.c.lat, points.c.lng, sql_metres(exact).label("distance"))
        .where(sql_within_radius(exact))
        .subquery("ring")
    )


def _nearest_page(shape: Shape) -> sa.Select[Any]:
    """A page of the resources nearest a centre, in one statement (PostgreSQL): the
    circle's points (`_circle_points`); per point the first `reach` (offset + limit)
    matching ids in id order, read from the place index; of those, the page by distance
    then id; then the page's rows by primary key. No point can give a page more than
    `reach` of its resources, so nothing beyond them is read or counted. This replaced the
    points, a count per point and a page per ring: three statements, each planned and
    sent on its own, where this is one."""
    table = standard_resources
    ring = _circle_points()
    at_point = (
        sa.select(table.c.id)
        .where(
            *_where(replace(shape, near=False), 0),
            table.c.latitude == ring.c.lat,
            table.c.longitude == ring.c.lng,
        )
        .order_by(table.c.id)
        .limit(sa.bindparam("reach", type_=sa.Integer))
        .lateral("at_point")
    )
    nearest_first = (
        sa.select(ring.c.distance, at_point.c.id)
        .select_from(ring)
        .join(at_point, sa.true())
        .order_by(ring.c.distance, at_point.c.id)
    )
    page = _one_page(nearest_first).subquery("page")
    found = table.alias("found")
    return (
        sa.select(
            found.c.id,
            found.c.version,
            found.c.last_updated,
            found.c.active,
            found.c.content,
            page.c.distance,
        )
        .select_from(page)
        .join(found, _by_id(found, page.c.id))
        .order_by(page.c.distance, page.c.id)
    )


def _nearest_count(shape: Shape) -> sa.Select[Any]:
    """How many resources match within the circle (an HSDS page's total near a place), in
    one statement (PostgreSQL): the circle's points (`_circle_points`), then a count at
    each point on the place index, which includes `active` (migration 0010), so no row is
    read. Counting the box's rows at the points in one scan (`points`, grouped, as SQLite's
    pages read it) made PostgreSQL OR one bitmap per point, read every row and sort them:
    12 ms, against 7.7 ms counted per point reading the rows and 3.7 ms index-only, for a
    10 km circle in Brussels (6,701 services at locations at 25 points; docs/benchmarks.md,
    2026-12-02 midday)."""
    table = standard_resources
    ring = _circle_points()
    at_point = (
        sa.select(sa.func.count().label("found"))
        .where(
            *_where(replace(shape, near=False), 0),
            table.c.latitude == ring.c.lat,
            table.c.longitude == ring.c.lng,
        )
        .lateral("at_point")
    )
    return sa.select(sa.func.coalesce(sa.func.sum(at_point.c.found), 0)).select_from(
        ring.join(at_point, sa.true())
    )


def _terms_alone_count(shape: Shape) -> sa.Select[Any]:
    """Distinct resources with every probe's terms, from the term index alone; for one
    stored name prefix alone, its kept total while the totals are right (an HSDS page's
    total for one name word: adapters/prefix_totals.py). The count is then a subquery
    PostgreSQL never runs (an init plan is run when its value is first needed)."""
    start = _terms(shape.probes[0], "start")
    counted = _terms_alone(shape, start, sa.func.count(sa.distinct(start.c.id)))
    if shape.probes != (("prefix", 1),):
        return counted
    return sa.select(
        sa.case(
            (totals_are_right(), kept_total(sa.bindparam("p0_0"))),
            else_=counted.scalar_subquery(),
        )
    )


def _terms_alone_page(shape: Shape) -> sa.Select[Any]:
    """A page of the resources with every probe's terms: the page's ids from the term
    index alone (in its order, limit and offset applied there), then their rows by primary
    key. Joined before the limit, the planner merge-joined the ids with the resources in id
    order: 189 resource rows read for a page of 50 (HSDS `search=huisa`)."""
    start = _terms(shape.probes[0], "start")
    ids = _terms_alone(shape, start, start.c.id)
    if shape.probes[0] != ("in", 1):
        ids = ids.distinct()  # one resource can have several of these terms
    return _rows_of(_one_page(ids.order_by(start.c.id)).subquery("driver"))


def _terms_alone_counted_page(shape: Shape) -> sa.Select[Any]:
    """`_terms_alone_page`'s rows, each led by `_terms_alone_count`'s total: one
    statement where an HSDS page sent two. The total is an uncorrelated subquery,
    computed once; a page past the end is one row of the total and NULLs (the outer
    join on a single row), so the total always comes back."""
    total = _terms_alone_count(shape).scalar_subquery()
    page = _terms_alone_page(shape).subquery("page")
    one = sa.select(sa.literal(1).label("one")).subquery("one")
    return (
        sa.select(total.label("total"), *page.c)
        .select_from(one)
        .outerjoin(page, sa.true())
        .order_by(page.c.id)
    )


def _terms_alone(shape: Shape, start: Any, column: Any) -> sa.Select[Any]:
    """`column` over the term rows `start` of the first probe whose resource has every
    other probe's terms too."""
    found = sa.select(column).where(
        start.c.standard == sa.bindparam("standard"),
        start.c.type == sa.bindparam("type"),
        _matches(start, 0, shape.probes[0]),
    )
    for number in range(1, len(shape.probes)):
        terms = _terms(shape.probes[number], f"t{number}")
        found = found.where(
            sa.exists().where(
                *_same_resource(terms, start), _matches(terms, number, shape.probes[number])
            )
        )
    return found
