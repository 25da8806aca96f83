"""Distances in SQL, computed as the directory computes them in Python.

A near search's statements (adapters/resource_statements.py for FHIR and HSDS,
adapters/near_queries.py for the citizens' search) test and order by these, bound to
`circle_values`: a point is in or out of a circle, and at what distance, in SQL as in
domain/geo.py.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from directory.domain.geo import EARTH_RADIUS_KM, Point


def sql_distance_km(latitude: Any, longitude: Any) -> sa.ColumnElement[float]:
    """The great-circle distance from the centre (`centre_lat`, `centre_lng`) in SQL,
    operation for operation as domain.geo.distance_km computes it in double precision
    (PostgreSQL's sin, cos, asin and sqrt are the C library's, as Python's are), so a
    point is in or out of a circle, and at what distance, as the rest of the directory
    says. The constants are bound as doubles, not SQL numerics."""

    def double(name: str, value: float | None = None) -> Any:
        return sa.bindparam(name, value, type_=sa.Float)

    lat1 = sa.func.radians(double("centre_lat"))
    lat2 = sa.func.radians(latitude)
    dlng = sa.func.radians(longitude - double("centre_lng"))
    half = double("two", 2.0)
    h = sa.func.power(sa.func.sin((lat2 - lat1) / half), half) + sa.func.cos(lat1) * sa.func.cos(
        lat2
    ) * sa.func.power(sa.func.sin(dlng / half), half)
    return double("earth_diameter_km", 2 * EARTH_RADIUS_KM) * sa.func.asin(
        sa.func.least(double("one", 1.0), sa.func.sqrt(h))
    )


def sql_metres(exact: Any) -> sa.ColumnElement[float]:
    """A distance in km rounded to metres as Python's `round(d, 3)` rounds it (decimal,
    then the nearest double): the distance pages order by."""
    return sa.cast(sa.func.round(sa.cast(exact, sa.Numeric), 3), sa.Float)


def sql_within_radius(exact: Any) -> sa.ColumnElement[bool]:
    return exact <= sa.bindparam("radius_km", type_=sa.Float)


def circle_values(centre: Point, radius_km: float) -> dict[str, float]:
    """The values `sql_distance_km` and `sql_within_radius` are bound to."""
    return {"centre_lat": centre.latitude, "centre_lng": centre.longitude, "radius_km": radius_km}
