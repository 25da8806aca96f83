"""Places on the map: points, distances, and the geocoder interface.

The directory needs a point for every practice address to search near a place. Which
service gives that point is a deployment choice: the reference geocoder places an address
at the centroid of its municipality from reference data shipped with the code; a real
address service (e.g. the Flemish CRAB/Adressenregister) can replace it by implementing
`Geocoder`, without touching the projection or the queries, and is chosen with the
setting `DIRECTORY_GEOCODER` (`adapters/geocoders.py`). Both methods are coroutines: a
networked service answers over the network, on the projection's path (`locate`) and on
the request path (`place`), without blocking the event loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Point:
    """WGS 84 latitude and longitude, in decimal degrees."""

    latitude: float
    longitude: float


@dataclass(frozen=True)
class Placed:
    """Where an address is, and how precisely that is known."""

    point: Point
    precision: str
    """`address` (a real address service), `postcode` or `municipality` (a centroid)."""


class Geocoder(Protocol):
    """Turns a Belgian address, or what a citizen types, into a point."""

    async def locate(self, postcode: str, municipality: str, street: str | None) -> Placed | None:
        """The point of an address; None when the geocoder does not know it."""
        ...

    async def place(self, text: str) -> Point | None:
        """The point of a postcode (`9000`) or municipality name (`Gent`, `Gand`)."""
        ...


class NoGeocoder:
    """Places nothing (tests of the search without a map)."""

    async def locate(self, postcode: str, municipality: str, street: str | None) -> Placed | None:
        return None

    async def place(self, text: str) -> Point | None:
        return None


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine)."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlng = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Box:
    """The latitude/longitude box around a circle: a cheap index pre-filter."""

    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float


def bounding_box(centre: Point, radius_km: float) -> Box:
    """A box that contains every point within `radius_km` of `centre` (Belgium: no poles)."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    dlng = dlat / max(math.cos(math.radians(centre.latitude)), 0.01)
    return Box(
        centre.latitude - dlat,
        centre.latitude + dlat,
        centre.longitude - dlng,
        centre.longitude + dlng,
    )
