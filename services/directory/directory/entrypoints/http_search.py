"""Public search over published provider and practice fiches (no login).

Served at `/api/directory/search` and, unchanged, at the old address `/api/fiches/search`
(both are the same endpoint, not a redirect: agencies' scripts that do not follow
redirects keep working).

Pagination is limit/offset over a stable order (name, then type and id): the public
pages through a handful of result pages, and a page number is what a search page
shows. Deep paging costs more per page, so `offset` is capped; agencies that want the
whole directory mirror the public topics instead. There is no total count: on a broad
search (every Dutch speaker) counting costs as much as reading all the matches, so a
page says `has_more` instead, for free.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from directory.adapters.near_queries import Near, run_near_search
from directory.adapters.read_engine import Reads
from directory.adapters.search_queries import run_search
from directory.config import DirectorySettings
from directory.domain.geo import Geocoder, Point
from directory.domain.qualifications import QUALIFICATION_GROUPS
from directory.domain.ranking import SearchFilters, SelectivityCache
from directory.domain.text import normalized, words
from directory.entrypoints.query_parameters import (
    direct,
    integer,
    matching,
    one_of,
    only_parameters,
    positive_number,
    text,
)
from servicekit.inputs import INT32_MAX, Limit
from servicekit.readable_patterns import described

MAX_OFFSET = 10_000
MAX_NAME_WORDS = 6
DEFAULT_RADIUS_KM = 10.0


class SearchPage(BaseModel):
    """One page of search hits (documentation of the response)."""

    items: list[dict[str, Any]] = Field(
        description="Hits in name order (with `near`: nearest first, each with "
        "`distance_km`). A provider hit: type `provider`, id, name (the "
        "name they go by), official names, professions, languages, and the practices where "
        "their offer is published (id, name, postcode, municipality). A practice hit: type "
        "`practice`, id, name, names, addresses, phone numbers, websites, target groups, "
        "age categories, neighbourhoods, contact persons, opening hours, extra offer and "
        "offer blocks (profession, providers: fiche id and name)."
    )
    limit: int
    offset: int
    has_more: bool = Field(description="Whether a next page exists.")
    next_offset: int | None = Field(description="`offset` of the next page, if any.")


def _invalid(param: str, message: str, value: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("query", param), "msg": message, "type": "value_error", "input": value}]
    )


def _term(param: str, value: str | None) -> str | None:
    if value is None:
        return None
    term = normalized(value)
    if not term:
        raise _invalid(param, f"{param} must contain letters or digits", value)
    return term


def _qualification(value: str | None) -> str | None:
    if value is None:
        return None
    group = QUALIFICATION_GROUPS.get(value.strip().lower())
    if group is None:
        raise _invalid(
            "qualification",
            f"qualification must be one of {', '.join(sorted(QUALIFICATION_GROUPS))}",
            value,
        )
    return normalized(group.name)


_COORDINATES = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")

SEARCH_PARAMETERS = (
    "q",
    "profession",
    "qualification",
    "postcode",
    "municipality",
    "target_group",
    "language",
    "type",
    "near",
    "radius_km",
    "limit",
    "offset",
)


async def centre_of(near: str, geocoder: Geocoder) -> Point:
    """The point of `near`: `lat,lng`, a postcode or a municipality; 422 when unknown."""
    coordinates = _COORDINATES.match(near)
    if coordinates:
        latitude, longitude = float(coordinates[1]), float(coordinates[2])
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise _invalid("near", "near: latitude -90..90, longitude -180..180", near)
        return Point(latitude, longitude)
    point = await geocoder.place(near)
    if point is None:
        raise _invalid(
            "near",
            "near must be a Belgian postcode (9000), a municipality (Gent) or "
            "`latitude,longitude` (51.05,3.72); this place is unknown",
            near,
        )
    return point


NameWords = Annotated[
    str | None,
    Query(
        max_length=100,
        description="Name fragment(s): every word must start a word of the name "
        "(`jan pe` finds Jan Peeters and Peeters Jana). Accents and case are ignored.",
    ),
]
Profession = Annotated[
    str | None,
    Query(
        max_length=60,
        description="Profession code (`physician`, `nurse`) or extra offer "
        "(`osteopath`). Practices match through their offer blocks.",
    ),
]
Qualification = Annotated[
    str | None,
    Query(
        max_length=60,
        description="A group of qualifications within a profession: "
        "`general_practitioner` (a physician with a GP qualification, accredited or "
        "in training). Practices match through a provider of that profession in "
        "their offer block.",
    ),
]
Postcode = Annotated[
    str | None,
    Query(
        pattern=described(r"^[1-9][0-9]{3}$", "a Belgian postcode: 4 digits, 1000 to 9999 (9000)"),
        description="Belgian postcode, 1000-9999.",
    ),
]
Municipality = Annotated[
    str | None, Query(max_length=100, description="Municipality, e.g. `Gent`.")
]
TargetGroup = Annotated[str | None, Query(max_length=100, description="Target group (doelgroep).")]
Language = Annotated[
    str | None,
    Query(
        pattern=described(r"^[A-Za-z]{2}$", "a language code of two letters (nl, fr, en)"),
        description="ISO 639-1 language code, e.g. `nl`.",
    ),
]
Kind = Annotated[
    Literal["provider", "practice"] | None,
    Query(description="Only providers or only practices; default both."),
]
NearPlace = Annotated[
    str | None,
    Query(
        max_length=100,
        description="Only fiches near this place, nearest first: a postcode (`9000`), "
        "a municipality (`Gent`, `Gand`) or `latitude,longitude` (`51.05,3.72`). "
        "A practice is as near as its nearest address, a provider as their nearest "
        "practice. Each hit then has `distance_km`.",
    ),
]
RadiusKm = Annotated[
    float | None, Query(gt=0, description="Radius around `near` in km (default 10).")
]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Hits to skip (at most 10,000).")]


def _name_words(q: str | None) -> tuple[str, ...]:
    if q is None:
        return ()
    found = tuple(dict.fromkeys(words(q)))
    if not found:
        raise _invalid("q", "q must contain letters or digits", q)
    if len(found) > MAX_NAME_WORDS:
        raise _invalid("q", f"q may have at most {MAX_NAME_WORDS} words", q)
    return found


async def _circle(
    near: str | None, radius_km: float | None, settings: DirectorySettings, geocoder: Geocoder
) -> Near | None:
    if radius_km is not None and near is None:
        raise _invalid("radius_km", "radius_km needs near (the place to measure from)", "")
    if radius_km is not None and radius_km > settings.near_radius_km_max:
        raise _invalid(
            "radius_km",
            f"radius_km must be at most {settings.near_radius_km_max:g}",
            str(radius_km),
        )
    if near is None:
        return None
    return Near(await centre_of(near, geocoder), radius_km or DEFAULT_RADIUS_KM)


def _page(documents: list[str], limit: int, offset: int) -> bytes:
    """The page, its stored JSON documents joined without decoding them."""
    has_more = len(documents) > limit
    return b"".join(
        (
            b'{"items":[',
            ",".join(documents[:limit]).encode(),
            b'],"limit":',
            orjson.dumps(limit),
            b',"offset":',
            orjson.dumps(offset),
            b',"has_more":',
            orjson.dumps(has_more),
            b',"next_offset":',
            orjson.dumps(offset + limit if has_more else None),
            b"}",
        )
    )


def search_router(
    reads: Reads,
    settings: DirectorySettings,
    geocoder: Geocoder,
    *,
    prefix: str,
    route_class: type[APIRoute] = APIRoute,
) -> APIRouter:
    """GET {prefix}/search: published fiches only, by name, filters and place."""
    router = APIRouter(prefix=prefix, tags=["public: search"], route_class=route_class)
    selectivity = SelectivityCache()

    @router.get(
        "/search",
        summary="Search published provider and practice fiches",
        response_class=Response,
        responses={200: {"model": SearchPage, "description": "One page of hits."}},
        dependencies=[Depends(only_parameters(SEARCH_PARAMETERS))],
    )
    async def search(
        q: NameWords = None,
        profession: Profession = None,
        qualification: Qualification = None,
        postcode: Postcode = None,
        municipality: Municipality = None,
        target_group: TargetGroup = None,
        language: Language = None,
        type: Kind = None,
        near: NearPlace = None,
        radius_km: RadiusKm = None,
        limit: Annotated[Limit, Query(description="Hits per page.")] = 20,
        offset: Offset = 0,
    ) -> Response:
        if limit > settings.public_page_size_max:
            raise _invalid(
                "limit", f"limit must be at most {settings.public_page_size_max}", str(limit)
            )
        filters = SearchFilters(
            name_words=_name_words(q),
            profession=_term("profession", profession),
            qualification=_qualification(qualification),
            postcode=postcode,
            municipality=_term("municipality", municipality),
            target_group=_term("target_group", target_group),
            language=language.lower() if language else None,
            kind=type,
        )
        circle = await _circle(near, radius_km, settings, geocoder)
        async with reads.connect() as connection:
            if circle is not None:
                documents = await run_near_search(
                    connection, filters, circle, limit=limit + 1, offset=offset
                )
            else:
                documents = await run_search(
                    connection, filters, limit=limit + 1, offset=offset, cache=selectivity
                )
        return Response(content=_page(documents, limit, offset), media_type="application/json")

    # The checks of the parameters' annotations above, for the usual requests.
    direct(
        search,
        {
            "q": text(100),
            "profession": text(60),
            "qualification": text(60),
            "postcode": matching(r"[1-9][0-9]{3}"),
            "municipality": text(100),
            "target_group": text(100),
            "language": matching(r"[A-Za-z]{2}"),
            "type": one_of("provider", "practice"),
            "near": text(100),
            "radius_km": positive_number,
            "limit": integer(1, INT32_MAX),
            "offset": integer(0, MAX_OFFSET),
        },
    )
    return router
