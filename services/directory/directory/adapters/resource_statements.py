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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

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

Kind = Literal["page", "page_terms", "ids", "points", "count", "count_terms"]


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
    """For `page` and `points`: how many points (`lat{i}`, `lng{i}`) the resources are at."""
    points_listed: bool = False
    """For `page` and `points`, instead of `ring_points`: the points are two arrays,
    `ring_lats` and `ring_lngs` (PostgreSQL), joined as a table. Each point is then one
    index-only probe of the place index, where an OR of several points made PostgreSQL
    read the resources' rows (a bitmap scan: 2.3-2.6 ms against 0.9-1.0 ms for the
    circles of more than one point, 300,000 providers; docs/benchmarks.md). One point
    stays an equality, a little faster still."""


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

    def shape(self, kind: Kind, ring_points: int = 0, points_listed: bool = False) -> Shape:
        return Shape(
            kind,
            tuple((p[0], len(p) - 1) for p in self.probes),
            bool(self.ids),
            self.active is not None,
            tuple(operator for operator, _ in self.updated),
            self.box is not None,
            ring_points,
            points_listed,
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
        .join(
            table,
            (table.c.standard == sa.bindparam("standard"))
            & (table.c.type == sa.bindparam("type"))
            & (table.c.id == driver.c.id),
        )
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
    `limit`/`offset` (page, ids) and the points' `lat{i}`/`lng{i}` or `ring_lats`/
    `ring_lngs` (page, points)."""
    if shape.kind == "count_terms":
        return _terms_alone_count(shape)
    if shape.kind == "page_terms":
        return _terms_alone_page(shape)
    found, order = _matching(shape)
    table = standard_resources
    if shape.points_listed:
        found = found.join_from(
            table,
            _LISTED_POINTS,
            (table.c.latitude == _LISTED_POINTS.c.lat)
            & (table.c.longitude == _LISTED_POINTS.c.lng),
        )
    elif shape.ring_points:
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
    limit = sa.bindparam("limit", type_=sa.Integer)
    offset = sa.bindparam("offset", type_=sa.Integer)
    return found.order_by(order).limit(limit).offset(offset)


def _rest(shape: Shape) -> tuple[Any, ...]:
    return (
        shape.probes,
        shape.ids,
        shape.active,
        shape.updated,
        shape.near,
        shape.ring_points,
        shape.points_listed,
    )


_LISTED_POINTS = (
    sa.func.unnest(
        sa.bindparam("ring_lats", type_=postgresql.ARRAY(sa.Float)),
        sa.bindparam("ring_lngs", type_=postgresql.ARRAY(sa.Float)),
    )
    .table_valued("lat", "lng")
    .render_derived(name="ring")
)
"""The points of `Shape.points_listed`, as a table (PostgreSQL's `unnest` of two arrays)."""


def _terms_alone_count(shape: Shape) -> sa.Select[Any]:
    """Distinct resources with every probe's terms, from the term index alone."""
    start = _terms(shape.probes[0], "start")
    return _terms_alone(shape, start, sa.func.count(sa.distinct(start.c.id)))


def _terms_alone_page(shape: Shape) -> sa.Select[Any]:
    """A page of the resources with every probe's terms: the page's ids from the term
    index alone (in its order, limit and offset applied there), then their rows by primary
    key. Joined before the limit, the planner merge-joined the ids with the resources in id
    order: 189 resource rows read for a page of 50 (HSDS `search=huisa`)."""
    start = _terms(shape.probes[0], "start")
    ids = _terms_alone(shape, start, start.c.id)
    if shape.probes[0] != ("in", 1):
        ids = ids.distinct()  # one resource can have several of these terms
    driver = (
        ids.order_by(start.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
        .subquery("driver")
    )
    table = standard_resources
    return (
        sa.select(*_columns("page"))
        .select_from(driver)
        .join(
            table,
            (table.c.standard == sa.bindparam("standard"))
            & (table.c.type == sa.bindparam("type"))
            & (table.c.id == driver.c.id),
        )
        .order_by(driver.c.id)
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
