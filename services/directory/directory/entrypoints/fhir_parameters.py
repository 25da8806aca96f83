"""Parsing FHIR search parameters into a resource query (mCSD ITI-90 subset)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from directory.adapters.standard_queries import Circle, ResourceQuery
from directory.domain.fhir import PROFESSION_SYSTEM
from directory.domain.geo import Point
from directory.domain.resources import FHIR
from directory.domain.text import normalized, words

TYPES = ("Practitioner", "PractitionerRole", "Organization", "Location", "HealthcareService")

COMMON = ("_id", "_lastUpdated", "_count", "_offset", "_include", "_revinclude", "_format")

SEARCH_PARAMETERS: dict[str, dict[str, str]] = {
    "Practitioner": {"name": "string", "active": "token"},
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
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"{parameter}: {value!r} is not a date or dateTime (e.g. 2026-11-29T08:00:00Z)"
        ) from None
    try:
        # In UTC, as the database compares it; 0001-01-01T00:00+14:00 has no UTC moment.
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise BadRequest(
            f"{parameter}: {value!r} is outside the years 1 to 9999 in UTC; give a later date"
        ) from None


def parse_instant(parameter: str, value: str) -> datetime:
    return _instant(parameter, value)


def _near(value: str) -> Circle:
    parts = value.split("|")
    try:
        latitude, longitude = float(parts[0]), float(parts[1])
        distance = float(parts[2]) if len(parts) > 2 and parts[2] else 10.0
    except (ValueError, IndexError):
        raise BadRequest(
            f"near: {value!r} must be latitude|longitude|distance|unit, e.g. 51.05|3.72|5|km"
        ) from None
    unit = parts[3] if len(parts) > 3 and parts[3] else "km"
    if unit not in ("km", "m") or distance <= 0 or distance > 100_000:
        raise BadRequest(f"near: distance must be positive, unit km or m, got {value!r}")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadRequest(f"near: {value!r} is not a latitude|longitude")
    return Circle(Point(latitude, longitude), distance / 1000 if unit == "m" else distance)


def _boolean(parameter: str, value: str) -> bool:
    if value not in ("true", "false"):
        raise BadRequest(f"{parameter}: use true or false, not {value!r}")
    return value == "true"


def _token(parameter: str, value: str) -> str:
    system, _, code = value.rpartition("|")
    if system and system != PROFESSION_SYSTEM:
        raise BadRequest(f"{parameter}: only codes of {PROFESSION_SYSTEM} are known")
    return code


def parse_search(
    resource_type: str, items: list[tuple[str, str]], *, page_max: int
) -> ParsedSearch:
    """The query for `GET /fhir/{type}?...`; BadRequest names what is wrong."""
    known = SEARCH_PARAMETERS[resource_type]
    ids: list[str] = []
    groups: list[tuple[str, ...]] = []
    prefixes: list[str] = []
    active: bool | None = None
    updated: list[tuple[str, datetime]] = []
    near: Circle | None = None
    count, offset = 20, 0
    includes: list[tuple[str, str]] = []
    revincludes: list[tuple[str, str]] = []
    for name, value in items:
        if name not in known and name not in COMMON:
            raise BadRequest(
                f"unknown search parameter {name!r} for {resource_type}; it takes "
                f"{', '.join([*sorted(known), *COMMON])}"
            )
        values = [v for v in value.split(",") if v]
        if name == "_id":
            ids += values
        elif name == "_lastUpdated":
            prefix = value[:2] if value[:2] in ("eq", "ge", "gt", "le", "lt") else "eq"
            updated.append((prefix, _instant(name, value[2:] if value[:2] == prefix else value)))
        elif name in ("_count", "_offset"):
            try:
                number = int(value)
            except ValueError:
                raise BadRequest(f"{name}: {value!r} is not a whole number") from None
            if name == "_count" and not 1 <= number <= page_max:
                raise BadRequest(f"_count: between 1 and {page_max}")
            if name == "_offset" and not 0 <= number <= 100_000:
                raise BadRequest("_offset: between 0 and 100000")
            count, offset = (number, offset) if name == "_count" else (count, number)
        elif name == "_include":
            if value not in INCLUDES.get(resource_type, {}):
                raise BadRequest(
                    f"_include: {value!r} is not supported on {resource_type}; supported: "
                    f"{', '.join(INCLUDES.get(resource_type, {})) or 'none'}"
                )
            includes.append(INCLUDES[resource_type][value])
        elif name == "_revinclude":
            if value not in REVINCLUDES.get(resource_type, {}):
                raise BadRequest(
                    f"_revinclude: {value!r} is not supported on {resource_type}; supported: "
                    f"{', '.join(REVINCLUDES.get(resource_type, {})) or 'none'}"
                )
            revincludes.append(REVINCLUDES[resource_type][value])
        elif name == "_format":
            if value not in ("json", "application/fhir+json", "application/json"):
                raise BadRequest("_format: only json is served")
        elif name == "name":
            found = words(value)
            if not found:
                raise BadRequest("name: give letters or digits")
            prefixes += found
        elif name == "active":
            active = _boolean(name, value)
        elif name == "status":
            if value not in ("active", "inactive"):
                raise BadRequest("status: active or inactive")
            active = value == "active"
        elif name == "address-postalcode":
            groups.append(tuple(f"pc:{v.strip()}" for v in values))
        elif name == "address-city":
            groups.append(tuple(f"city:{normalized(v)}" for v in values))
        elif name in _REFERENCE_TERM:
            groups.append(tuple(f"{name}:{v.rpartition('/')[2]}" for v in values))
        elif name in ("specialty", "service-type", "role"):
            groups.append(tuple(f"specialty:{_token(name, v)}" for v in values))
        elif name == "near":
            near = _near(value)
    query = ResourceQuery(
        standard=FHIR,
        type=resource_type,
        ids=tuple(ids),
        any_terms=tuple(groups),
        name_prefixes=tuple(dict.fromkeys(prefixes)),
        active=active,
        updated=tuple(updated),
        near=near,
    )
    return ParsedSearch(query, count, offset, includes, revincludes)
