"""A practice fiche as both standards see it: its names, addresses, phones, hours, points
and offer blocks, read from the public facts once; and the stable ids of its resources.

FHIR (domain/fhir.py) and HSDS (domain/hsds.py) shape the same facts differently; what
the facts say (which lines an address has, which numbers and hours count, which providers
of a block are shown) is decided here, once for both.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from directory.domain.documents import preferred
from directory.domain.resources import derived_id, name_terms, place_terms

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def location_id(practice_id: str, position: int) -> str:
    return derived_id("location", practice_id, str(position))


def service_id(practice_id: str, code: str) -> str:
    return derived_id("service", practice_id, code)


def role_id(practice_id: str, provider_id: str, code: str) -> str:
    return derived_id("role", practice_id, provider_id, code)


@dataclass(frozen=True)
class Offer:
    """A provider's offer in a practice's block, with the provider's facts (if known)."""

    provider_id: str
    profession: str
    provider: dict[str, Any] | None

    @property
    def shown(self) -> bool:
        """Whether the provider is on the map (known and published)."""
        return self.provider is not None and bool(self.provider["published"])


@dataclass(frozen=True)
class Block:
    """A practice's offer block: one profession and the offers in it."""

    code: str
    members: tuple[Offer, ...]

    @property
    def shown(self) -> list[Offer]:
        return [m for m in self.members if m.shown]


@dataclass(frozen=True)
class Hours:
    position: int
    """Its place among the fiche's opening hours (ids derive from it)."""
    day: str
    opens: str
    closes: str
    note: str | None


@dataclass(frozen=True)
class Place:
    """One address of the practice: its Location's id, the address, its point."""

    id: str
    position: int
    address: dict[str, Any]
    point: tuple[float, float] | None

    @functools.cached_property
    def terms(self) -> set[str]:
        return place_terms([self.address])


def street_line(address: dict[str, Any]) -> str:
    return f"{address['street']} {address['number']}"


def box_line(address: dict[str, Any]) -> str | None:
    return f"bus {address['box']}" if address.get("box") else None


@dataclass(frozen=True)
class PracticeView:
    """The public facts of one practice, as the standards' builders read them."""

    id: str
    name: str
    published: bool
    names: list[str]
    places: list[Place]
    websites: list[str]
    phones: list[str]
    hours: list[Hours]
    blocks: list[Block]

    @functools.cached_property
    def name_terms(self) -> set[str]:
        return name_terms(self.name, *self.names)

    @functools.cached_property
    def place_terms(self) -> set[str]:
        return place_terms([p.address for p in self.places])

    @property
    def other_names(self) -> list[str]:
        return [n for n in self.names if n != self.name]

    @functools.cached_property
    def main_point(self) -> tuple[float, float] | None:
        """The preferred address's point, else the first address that has one."""
        first = next((p.point for p in self.places if p.point), None)
        best = preferred([p.address for p in self.places])
        at_best = next((p.point for p in self.places if p.address is best), None)
        return at_best or first


def practice_view(
    practice: dict[str, Any], points: dict[int, tuple[float, float]], offers: Sequence[Offer]
) -> PracticeView:
    facts = practice["facts"]
    blocks: dict[str, list[Offer]] = {}
    for offer in offers:
        blocks.setdefault(offer.profession, []).append(offer)
    return PracticeView(
        id=practice["practice_id"],
        name=practice["name"],
        published=bool(practice["published"]),
        names=[n["name"] for n in facts.get("names") or []],
        places=[
            Place(location_id(practice["practice_id"], position), position, a, points.get(position))
            for position, a in enumerate(facts.get("addresses") or [])
        ],
        websites=[w["url"] for w in facts.get("websites") or []],
        phones=[p["number"] for p in facts.get("phone_numbers") or []],
        hours=[
            Hours(n, h["day"], h["opens"], h["closes"], h.get("note"))
            for n, h in enumerate(facts.get("opening_hours") or [])
            if h.get("day") in DAYS
        ],
        blocks=[Block(code, tuple(members)) for code, members in sorted(blocks.items())],
    )
