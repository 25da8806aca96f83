"""Parsing FHIR search parameters into a resource query (mCSD ITI-90 subset)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from directory.adapters.standard_queries import Circle, ResourceQuery
from directory.domain.fhir import RESOURCE_TYPES, profession_of_token
from directory.domain.geo import Point
from directory.domain.resources import FHIR
from directory.domain.text import normalized, words
from directory.entrypoints.fhir_search_tables import (
    COMMON,
    INCLUDES,
    JSON_FORMATS,
    REVINCLUDES,
    SEARCH_PARAMETERS,
)
from directory.entrypoints.query_times import plus_in_url_hint, utc_moment, utc_range

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
    nothing: bool = False
    """A value no resource can have (a code of another system, `status=suspended`): the
    answer is an empty Bundle, as FHIR answers a search for an unknown code."""
    only_total: bool = False
    """`_summary=count` or `_count=0`: the Bundle's total, no entries."""
    total: bool = False
    """`_total=accurate` or `estimate`: the Bundle says how many match."""
    ignored: frozenset[str] = frozenset()
    """Parameters a lenient search left out: its links leave them out too (FHIR: the self
    link shows the parameters the search used)."""


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
    nothing: bool = False
    only_total: bool = False
    total: bool = False
    ignored: set[str] = field(default_factory=set)

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
        return ParsedSearch(
            query,
            self.count,
            self.offset,
            self.includes,
            self.revincludes,
            nothing=self.nothing,
            only_total=self.only_total,
            total=self.total or self.only_total,
            ignored=frozenset(self.ignored),
        )


_RANGE_BOUNDS = {
    # prefix: what a resource's lastUpdated (a moment) must be, against the range
    # [start, end) the value stands for at its precision (FHIR R4 search, "date").
    "eq": (("ge", "start"), ("lt", "end")),
    "ge": (("ge", "start"),),
    "gt": (("ge", "end"),),
    "sa": (("ge", "end"),),
    "le": (("lt", "end"),),
    "lt": (("lt", "start"),),
    "eb": (("lt", "start"),),
}


def _last_updated(search: _Search, name: str, value: str) -> None:
    """`_lastUpdated=[prefix]date`: the date to its precision (a day, a minute, ...)
    with eq, ne refused, gt, ge, lt, le, sa or eb."""
    prefix = value[:2] if value[:2].isalpha() else "eq"
    written = value[2:] if value[:2].isalpha() else value
    if prefix not in _RANGE_BOUNDS:
        raise BadRequest(
            f"{name}: the prefix {prefix!r} is not supported; use one of "
            f"{', '.join(_RANGE_BOUNDS)} (ne: ask lt and gt in two searches)"
        )
    try:
        start, end = utc_range(written)
    except ValueError:
        raise BadRequest(
            f"{name}: {written!r} is not a date or dateTime (2026-11-29, 2026-11, "
            f"2026-11-29T08:00:00Z)" + plus_in_url_hint(written)
        ) from None
    except OverflowError:
        raise BadRequest(
            f"{name}: {written!r} is outside the years 1 to 9999 in UTC; give a later date"
        ) from None
    bounds = {"start": start, "end": end}
    search.updated += [(operator, bounds[bound]) for operator, bound in _RANGE_BOUNDS[prefix]]


def _paging(search: _Search, name: str, value: str) -> None:
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name}: {value!r} is not a whole number") from None
    if name == "_count":
        if number < 0:
            raise BadRequest(
                f"_count: {number} is below 0; give 0 (the total only) to {search.page_max}"
            )
        # 0: the total only, as _summary=count; above the largest page, the largest page
        # (FHIR lets a server return fewer than asked; the next link has the rest).
        search.only_total = search.only_total or number == 0
        search.count = min(max(number, 1), search.page_max)
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
    if supported[value] not in found:  # twice asked, once included (Bundle rule bdl-7)
        found.append(supported[value])


def check_format(value: str) -> None:
    """`_format`: JSON in any of its spellings; anything else (xml) is refused."""
    if value.partition(";")[0].strip().lower() not in JSON_FORMATS:
        raise BadRequest(
            f"_format: {value!r} is not served; this server answers JSON only "
            "(_format=json, or leave it out)"
        )


def _format(search: _Search, name: str, value: str) -> None:
    check_format(value)


def _summary(search: _Search, name: str, value: str) -> None:
    """`_summary=count`: the total only. true, text, data and false: every resource whole
    (FHIR lets a server send more than the summary asked)."""
    if value not in ("count", "true", "text", "data", "false"):
        raise BadRequest(f"_summary: {value!r}; use count, true, text, data or false")
    search.only_total = search.only_total or value == "count"


def _total(search: _Search, name: str, value: str) -> None:
    if value not in ("none", "estimate", "accurate"):
        raise BadRequest(f"_total: {value!r}; use none, estimate or accurate")
    search.total = value != "none"


def _ignored(search: _Search, name: str, value: str) -> None:
    """`_elements`, `_pretty`: every resource is sent whole, and compact."""


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
    """`active=true`, `false`, or both comma-separated (any of them: no filter)."""
    wanted = {_boolean(name, one) for one in value.split(",") if one}
    search.active = wanted.pop() if len(wanted) == 1 else None


_LOCATION_STATUS = ("active", "suspended", "inactive")


def _status(search: _Search, name: str, value: str) -> None:
    """A Location's `status`, comma-separated for any of them. No location here is
    `suspended`: asked alone, nothing matches."""
    wanted = {one for one in value.split(",") if one}
    unknown = wanted - set(_LOCATION_STATUS)
    if unknown:
        raise BadRequest(
            f"status: {', '.join(sorted(unknown))} is not a Location status; use "
            f"{', '.join(_LOCATION_STATUS)}"
        )
    served = wanted - {"suspended"}
    if not served:
        search.nothing = True
    search.active = ("active" in served) if len(served) == 1 else None


def _any_of(search: _Search, name: str, value: str) -> None:
    """A parameter whose comma-separated values each name a term (any of them matches)."""
    values = [v for v in value.split(",") if v]
    if name == "_id":
        search.ids += values
    elif name == "address-postalcode":
        _postcodes(search, [v.strip() for v in values])
    elif name == "address-city":
        _cities(search, values)
    elif name in _REFERENCE_TERM:
        search.groups.append(tuple(f"{name}:{_reference_id(name, v)}" for v in values))
    else:  # specialty, service-type, role: a profession code
        codes = [code for code in map(profession_of_token, values) if code is not None]
        if codes:
            search.groups.append(tuple(f"specialty:{code}" for code in codes))
        else:
            search.nothing = True


_WHOLE_POSTCODE = re.compile(r"[1-9][0-9]{3}")


def _postcodes(search: _Search, values: list[str]) -> None:
    """A string search: one value matches the start of a postcode (`90`: 9000 to 9099);
    several, each a whole postcode, match any of them."""
    if len(values) == 1 and not _WHOLE_POSTCODE.fullmatch(values[0]):
        search.term_prefixes.append(f"pc:{values[0]}")
        return
    if not all(_WHOLE_POSTCODE.fullmatch(v) for v in values):
        raise BadRequest(
            "address-postalcode: with several values, give whole postcodes (9000,9050); "
            "one value matches the start of a postcode (90 finds 9000 to 9099)"
        )
    search.groups.append(tuple(f"pc:{v}" for v in values))


def _cities(search: _Search, values: list[str]) -> None:
    """A string search: one value matches the start of a municipality's name (`gent`:
    Gent and Gentbrugge), case and accents aside; several each match a whole name."""
    names = [normalized(v) for v in values]
    if not all(names):
        raise BadRequest("address-city: give a municipality's name (letters or digits)")
    if len(names) == 1:
        search.term_prefixes.append(f"city:{names[0]}")
    else:
        search.groups.append(tuple(f"city:{n}" for n in names))


_REFERENCE_TYPE = {
    "organization": "Organization",
    "practitioner": "Practitioner",
    "location": "Location",
    "service": "HealthcareService",
}


def _reference_id(name: str, value: str) -> str:
    """The id of `id`, `Type/id` or a full URL ending in `Type/id`; 400 when `Type` is
    not what the parameter refers to."""
    *path, resource_id = value.split("/")
    expected = _REFERENCE_TYPE[name]
    if path and path[-1] != expected:
        raise BadRequest(
            f"{name}: refers to a {expected}, and {value!r} names a {path[-1]}; give "
            f"{expected}/<id> or the id alone"
        )
    return resource_id


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


def _resource_type(search: _Search, name: str, value: str) -> None:
    """`type` of an Organization or a Location: every one carries the same codes (mCSD's
    facility; an Organization also `prov`), so a code of theirs keeps all and another
    finds nothing."""
    carried = RESOURCE_TYPES[search.resource_type]
    for one in (v for v in value.split(",") if v):
        system, bar, code = one.rpartition("|")
        if any(c["code"] == code and (not bar or c["system"] == system) for c in carried):
            return
    search.nothing = True


def _part_of(search: _Search, name: str, value: str) -> None:
    """No practice is part of another organization: `partof` finds nothing."""
    search.nothing = True


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
    "_summary": _summary,
    "_total": _total,
    "_elements": _ignored,
    "_pretty": _ignored,
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
    "type": _resource_type,
    "partof": _part_of,
}
"""How each parameter a type takes (SEARCH_PARAMETERS, COMMON) adds to a search."""


LOCATION_CHAINS = {
    "location.address-postalcode": "address-postalcode",
    "location.address-city": "address-city",
    "location.near": "near",
}
"""mCSD's chained parameters on a PractitionerRole's or HealthcareService's Location, the
same searches as this server's shorthand without `location.`."""
CHAINING_TYPES = ("PractitionerRole", "HealthcareService")


def parse_search(
    resource_type: str,
    items: list[tuple[str, str]],
    *,
    page_max: int,
    near_km_max: float,
    lenient: bool = False,
) -> ParsedSearch:
    """The query for `GET /fhir/{type}?...`; BadRequest names what is wrong. A parameter
    without a value is ignored (FHIR R4 search); an unknown one is refused, unless the
    client asked `Prefer: handling=lenient`: then it is left out."""
    known = SEARCH_PARAMETERS[resource_type]
    search = _Search(resource_type, page_max, near_km_max)
    for given, value in items:
        if value == "":
            continue
        name = LOCATION_CHAINS.get(given, given) if resource_type in CHAINING_TYPES else given
        if name not in known and name not in COMMON:
            if lenient:
                search.ignored.add(given)
                continue
            raise BadRequest(_unknown_parameter(resource_type, given))
        _PARAMETERS[name](search, name, value)
    return search.result()


def _unknown_parameter(resource_type: str, name: str) -> str:
    known = SEARCH_PARAMETERS[resource_type]
    base, colon, modifier = name.partition(":")
    if colon and (base in known or base in COMMON):
        how = {
            "string": f"{base} matches the start of each word (name=pee finds Peeters)",
            "token": f"{base} matches a code, or system|code",
            "reference": f"{base} matches an id or Type/id",
        }.get(known.get(base, ""), f"{base} takes no modifier here")
        return f"{name}: the modifier :{modifier} is not supported; {how}"
    if "." in name and name.partition(".")[0] in known:
        served = (
            f" (served: {', '.join(LOCATION_CHAINS)})" if resource_type in CHAINING_TYPES else ""
        )
        return (
            f"{name}: this chained parameter is not supported{served}; search the referred "
            "type first, then by its ids (organization=<id>,<id>)"
        )
    if name == "_sort":
        return "_sort is not supported: matches come by name, or nearest first with near"
    return (
        f"unknown search parameter {name!r} for {resource_type}; it takes "
        f"{', '.join([*sorted(known), *COMMON])} (send Prefer: handling=lenient to have "
        "unknown parameters left out instead)"
    )
