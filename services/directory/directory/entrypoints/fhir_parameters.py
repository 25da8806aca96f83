"""Parsing FHIR search parameters into a resource query (mCSD ITI-90 subset)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from directory.adapters.standard_queries import Circle, ResourceQuery
from directory.domain.fhir import PROFESSION_SYSTEM
from directory.domain.geo import Point
from directory.domain.resources import FHIR
from directory.domain.text import normalized, words
from directory.entrypoints.query_times import plus_in_url_hint, utc_moment

TYPES = ("Practitioner", "PractitionerRole", "Organization", "Location", "HealthcareService")

COMMON = ("_id", "_lastUpdated", "_count", "_offset", "_include", "_revinclude", "_format")

SEARCH_PARAMETERS: dict[str, dict[str, str]] = {
    "Practitioner": {
        "name": "string",
        "family": "string",
        "given": "string",
        "active": "token",
        "identifier": "token",
    },
    "Organization": {
        "name": "string",
        "active": "token",
        "address-postalcode": "string",
        "address-city": "string",
    },
    "Location": {
        "name": "string",
        "status": "token",
        "address-postalcode": "string",
        "address-city": "string",
        "organization": "reference",
        "near": "special",
    },
    "HealthcareService": {
        "name": "string",
        "active": "token",
        "organization": "reference",
        "location": "reference",
        "specialty": "token",
        "service-type": "token",
        "address-postalcode": "string",
        "address-city": "string",
        "near": "special",
    },
    "PractitionerRole": {
        "active": "token",
        "practitioner": "reference",
        "organization": "reference",
        "location": "reference",
        "service": "reference",
        "specialty": "token",
        "role": "token",
        "address-postalcode": "string",
        "address-city": "string",
        "near": "special",
    },
}
"""Per type: the parameters it takes and their FHIR type. On PractitionerRole and
HealthcareService, `address-postalcode`, `address-city` and `near` are this server's
shorthand for the same parameters of their Location (`location.address-postalcode`)."""

INCLUDES: dict[str, dict[str, tuple[str, str]]] = {
    "PractitionerRole": {
        "PractitionerRole:practitioner": ("practitioner", "Practitioner"),
        "PractitionerRole:organization": ("organization", "Organization"),
        "PractitionerRole:location": ("location", "Location"),
        "PractitionerRole:service": ("healthcareService", "HealthcareService"),
    },
    "Location": {"Location:organization": ("managingOrganization", "Organization")},
    "HealthcareService": {
        "HealthcareService:organization": ("providedBy", "Organization"),
        "HealthcareService:location": ("location", "Location"),
    },
}
"""`_include` values per searched type: (element holding the reference, type it points to)."""

REVINCLUDES: dict[str, dict[str, tuple[str, str]]] = {
    "Practitioner": {"PractitionerRole:practitioner": ("PractitionerRole", "practitioner")},
    "Organization": {
        "PractitionerRole:organization": ("PractitionerRole", "organization"),
        "Location:organization": ("Location", "organization"),
        "HealthcareService:organization": ("HealthcareService", "organization"),
    },
    "Location": {
        "PractitionerRole:location": ("PractitionerRole", "location"),
        "HealthcareService:location": ("HealthcareService", "location"),
    },
    "HealthcareService": {"PractitionerRole:service": ("PractitionerRole", "service")},
}
"""`_revinclude` values per searched type: (type that refers, its term prefix)."""

_REFERENCE_TERM = {"organization", "practitioner", "location", "service"}


class BadRequest(ValueError):
    """A search the server refuses: the message says which parameter and why."""


@dataclass
class ParsedSearch:
    query: ResourceQuery
    count: int
    offset: int
    includes: list[tuple[str, str]] = field(default_factory=list)
    revincludes: list[tuple[str, str]] = field(default_factory=list)


def _instant(parameter: str, value: str) -> datetime:
    try:
        return utc_moment(value)
    except ValueError:
        raise BadRequest(
            f"{parameter}: {value!r} is not a date or dateTime (e.g. 2026-11-29T08:00:00Z)"
            + plus_in_url_hint(value)
        ) from None
    except OverflowError:
        raise BadRequest(
            f"{parameter}: {value!r} is outside the years 1 to 9999 in UTC; give a later date"
        ) from None


def parse_instant(parameter: str, value: str) -> datetime:
    return _instant(parameter, value)


def _near(value: str, most_km: float) -> Circle:
    parts = value.split("|")
    try:
        latitude, longitude = float(parts[0]), float(parts[1])
        distance = float(parts[2]) if len(parts) > 2 and parts[2] else 10.0
    except (ValueError, IndexError):
        raise BadRequest(
            f"near: {value!r} must be latitude|longitude|distance|unit, e.g. 51.05|3.72|5|km"
        ) from None
    unit = parts[3] if len(parts) > 3 and parts[3] else "km"
    if unit not in ("km", "m") or distance <= 0:
        raise BadRequest(f"near: distance must be positive, unit km or m, got {value!r}")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadRequest(f"near: {value!r} is not a latitude|longitude")
    km = distance / 1000 if unit == "m" else distance
    if km > most_km:
        # As the search's radius_km and HSDS's proximity: a circle is read point by point.
        raise BadRequest(
            f"near: the distance must be at most {most_km:g} km, got {value!r}; give a "
            "smaller circle, or search by address-postalcode or address-city"
        )
    return Circle(Point(latitude, longitude), km)


def _boolean(parameter: str, value: str) -> bool:
    if value not in ("true", "false"):
        raise BadRequest(f"{parameter}: use true or false, not {value!r}")
    return value == "true"


def _token(parameter: str, value: str) -> str:
    system, _, code = value.rpartition("|")
    if system and system != PROFESSION_SYSTEM:
        raise BadRequest(f"{parameter}: only codes of {PROFESSION_SYSTEM} are known")
    return code


@dataclass
class _Search:
    """What the parameters of one search said so far."""

    resource_type: str
    page_max: int
    near_km_max: float
    ids: list[str] = field(default_factory=list)
    groups: list[tuple[str, ...]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    term_prefixes: list[str] = field(default_factory=list)
    active: bool | None = None
    updated: list[tuple[str, datetime]] = field(default_factory=list)
    near: Circle | None = None
    count: int = 20
    offset: int = 0
    includes: list[tuple[str, str]] = field(default_factory=list)
    revincludes: list[tuple[str, str]] = field(default_factory=list)

    def result(self) -> ParsedSearch:
        query = ResourceQuery(
            standard=FHIR,
            type=self.resource_type,
            ids=tuple(self.ids),
            any_terms=tuple(self.groups),
            name_prefixes=tuple(dict.fromkeys(self.prefixes)),
            term_prefixes=tuple(dict.fromkeys(self.term_prefixes)),
            active=self.active,
            updated=tuple(self.updated),
            near=self.near,
        )
        return ParsedSearch(query, self.count, self.offset, self.includes, self.revincludes)


def _last_updated(search: _Search, name: str, value: str) -> None:
    prefix = value[:2] if value[:2] in ("eq", "ge", "gt", "le", "lt") else "eq"
    search.updated.append((prefix, _instant(name, value[2:] if value[:2] == prefix else value)))


def _paging(search: _Search, name: str, value: str) -> None:
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name}: {value!r} is not a whole number") from None
    if name == "_count":
        if not 1 <= number <= search.page_max:
            raise BadRequest(f"_count: between 1 and {search.page_max}")
        search.count = number
    else:
        if not 0 <= number <= 100_000:
            raise BadRequest("_offset: between 0 and 100000")
        search.offset = number


def _include(search: _Search, name: str, value: str) -> None:
    table, found = (
        (INCLUDES, search.includes) if name == "_include" else (REVINCLUDES, search.revincludes)
    )
    supported = table.get(search.resource_type, {})
    if value not in supported:
        other = "_revinclude" if name == "_include" else "_include"
        elsewhere = (REVINCLUDES if name == "_include" else INCLUDES).get(search.resource_type, {})
        hint = f"; with {other}: {', '.join(elsewhere)}" if value in elsewhere else ""
        raise BadRequest(
            f"{name}: {value!r} is not supported on {search.resource_type}; supported: "
            f"{', '.join(supported) or 'none'}{hint}"
        )
    found.append(supported[value])


def _format(search: _Search, name: str, value: str) -> None:
    if value not in ("json", "application/fhir+json", "application/json"):
        raise BadRequest("_format: only json is served")


def _words_of(name: str, value: str) -> tuple[str, ...]:
    found = words(value)
    if not found:
        raise BadRequest(f"{name}: give letters or digits")
    return found


def _name(search: _Search, name: str, value: str) -> None:
    search.prefixes += _words_of(name, value)


def _name_part(search: _Search, name: str, value: str) -> None:
    """`family` or `given`: every word starts a word of that part of the official name."""
    search.term_prefixes += [f"{name}:{word}" for word in _words_of(name, value)]


def _active(search: _Search, name: str, value: str) -> None:
    search.active = _boolean(name, value)


def _status(search: _Search, name: str, value: str) -> None:
    if value not in ("active", "inactive"):
        raise BadRequest("status: active or inactive")
    search.active = value == "active"


def _any_of(search: _Search, name: str, value: str) -> None:
    """A parameter whose comma-separated values each name a term (any of them matches)."""
    values = [v for v in value.split(",") if v]
    if name == "_id":
        search.ids += values
    elif name == "address-postalcode":
        search.groups.append(tuple(f"pc:{v.strip()}" for v in values))
    elif name == "address-city":
        search.groups.append(tuple(f"city:{normalized(v)}" for v in values))
    elif name in _REFERENCE_TERM:
        search.groups.append(tuple(f"{name}:{v.rpartition('/')[2]}" for v in values))
    else:  # specialty, service-type, role: a profession code
        search.groups.append(tuple(f"specialty:{_token(name, v)}" for v in values))


_NUMBER_WRITTEN_WITH_SEPARATORS = re.compile(r"[0-9][0-9 ./-]*[0-9]")
_SEPARATORS = re.compile(r"[ ./-]")


def _identifier(search: _Search, name: str, value: str) -> None:
    """`identifier=value` (any system), `system|value`, or `|value` (no system: none of
    ours), comma-separated for any of them. A number may be written with separators
    (`1-23456-78-910`, as RIZIV numbers often are): they are left out."""
    terms = []
    for one in (v for v in value.split(",") if v):
        system, bar, code = one.rpartition("|")
        if _NUMBER_WRITTEN_WITH_SEPARATORS.fullmatch(code):
            code = _SEPARATORS.sub("", code)
        if not code:
            raise BadRequest(f"identifier: {one!r} has no value; give value or system|value")
        terms.append(f"identifier:{system}|{code}" if bar else f"identifier:{code}")
    if not terms:
        raise BadRequest("identifier: give value or system|value")
    search.groups.append(tuple(terms))


def _near_parameter(search: _Search, name: str, value: str) -> None:
    search.near = _near(value, search.near_km_max)


_PARAMETERS = {
    "_id": _any_of,
    "_lastUpdated": _last_updated,
    "_count": _paging,
    "_offset": _paging,
    "_include": _include,
    "_revinclude": _include,
    "_format": _format,
    "name": _name,
    "family": _name_part,
    "given": _name_part,
    "active": _active,
    "status": _status,
    "address-postalcode": _any_of,
    "address-city": _any_of,
    **{reference: _any_of for reference in _REFERENCE_TERM},
    "specialty": _any_of,
    "service-type": _any_of,
    "role": _any_of,
    "near": _near_parameter,
    "identifier": _identifier,
}
"""How each parameter a type takes (SEARCH_PARAMETERS, COMMON) adds to a search."""


def parse_search(
    resource_type: str, items: list[tuple[str, str]], *, page_max: int, near_km_max: float
) -> ParsedSearch:
    """The query for `GET /fhir/{type}?...`; BadRequest names what is wrong."""
    known = SEARCH_PARAMETERS[resource_type]
    search = _Search(resource_type, page_max, near_km_max)
    for name, value in items:
        if name not in known and name not in COMMON:
            raise BadRequest(
                f"unknown search parameter {name!r} for {resource_type}; it takes "
                f"{', '.join([*sorted(known), *COMMON])}"
            )
        _PARAMETERS[name](search, name, value)
    return search.result()
