"""Open Referral HSDS 3.0 at /hsds: services, organizations, locations, services at locations.

Pages as the HSDS API reference says (`page` from 1, `per_page`; the body says
`total_items`, `total_pages`, `page_number`, `size`, `first_page`, `last_page`, `empty`,
`contents`); `format=ndjson` streams every match, one record a line, without pages.
Filters: `search` (name words, by prefix), `postcode`, `taxonomy_term_id` (a profession's
term id or code), `taxonomy_id`, `modified_after`, `organization_id`; services also take
`full` (taken; a listed service carries its own fields, `/services/{id}` nests its
organization and locations: entrypoints/hsds_nesting.py); services at locations `proximity` (metres
from the centroid of `postcode`, nearest first). Only what is on the map is served:
what left it (a depublished practice, an offer block without published providers) is gone
from every list and answers 404. An unknown parameter is refused with 422.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncConnection

from directory.adapters.read_engine import Reads
from directory.adapters.standard_queries import (
    Circle,
    Found,
    ResourceQuery,
    by_ids,
    counted,
    find,
)
from directory.config import DirectorySettings
from directory.domain.geo import Geocoder
from directory.domain.hsds import TAXONOMY_ID
from directory.domain.resources import HSDS
from directory.domain.text import words
from directory.entrypoints.hsds_nesting import (
    nested_organization,
    nested_service,
    nested_service_at_location,
    served_record,
)
from directory.entrypoints.hsds_openapi import hsds_description
from directory.entrypoints.public_origin import origin
from directory.entrypoints.query_parameters import (
    Reader,
    direct,
    integer,
    only_parameters,
    text,
)
from directory.entrypoints.query_times import plus_in_url_hint, utc_moment
from directory.entrypoints.served_times import utc_milliseconds_json

HSDS_VERSION = "3.0"
NDJSON = "application/x-ndjson"
_STREAM_PAGE = 1_000

_SERVICE_FILTERS = (
    "search",
    "postcode",
    "taxonomy_term_id",
    "taxonomy_id",
    "modified_after",
    "organization_id",
)

# Per path: the record type and the filters its list takes.
LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "services": ("service", (*_SERVICE_FILTERS, "full")),
    "service_at_locations": ("service_at_location", (*_SERVICE_FILTERS, "proximity")),
    "organizations": ("organization", ("search", "postcode", "modified_after")),
    "locations": ("location", ("search", "postcode", "modified_after", "organization_id")),
}
_PAGING = ("page", "per_page", "format")

# The search and paging parameters of every HSDS list (/taxonomies and /taxonomy_terms too).
SearchWords = Annotated[str | None, Query(max_length=100, description="Name words, by prefix.")]
PageNumber = Annotated[int | None, Query(ge=1, le=100_000, description="From 1 (default 1).")]
PageSize = Annotated[int | None, Query(ge=1, description="Records a page (default 50).")]
# Checked by the endpoints (`paging_of`, `check_postcode`), whose refusals say what to give
# instead: a pattern in the Query would answer with the bare regular expression.
ListFormat = Annotated[
    str,
    Query(
        max_length=16,
        description="`json` (a page, the default) or `ndjson` (every match, a record a line).",
        json_schema_extra={"enum": ["json", "ndjson"]},
    ),
]
_POSTCODE = re.compile(r"[1-9][0-9]{3}")
Postcode = Annotated[
    str | None,
    Query(
        max_length=16,
        description="A Belgian postcode: 4 digits, 1000 to 9999.",
        json_schema_extra={"pattern": "^[1-9][0-9]{3}$"},
    ),
]
ModifiedAfter = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Only records changed at or after this date or date-time (ISO 8601, "
        "e.g. 2026-11-29T08:00:00Z; without a zone: UTC). A record that left the map is "
        "not listed: follow removals on FHIR's _history or the public topics.",
    ),
]


def record_text(type_: str, found: Found) -> bytes:
    """A record as served (a service with its last change), from its stored JSON text.

    The projection stores HSDS records without nulls, so the text is served as it is; a
    record stored with nulls (written before that) is decoded and cleaned."""
    content = found.content.encode()
    if b":null" in content or not content.endswith(b"}") or content == b"{}":
        return orjson.dumps(served_record(type_, found))
    if type_ != "service":
        return content
    return b'%s,"last_modified":%s}' % (
        content[:-1],
        utc_milliseconds_json(found.last_updated, zulu=False),
    )


_NESTINGS = {
    "service": nested_service,
    "organization": nested_organization,
    "service_at_location": nested_service_at_location,
}
"""How a record read alone is nested, as the HSDS API reference serves it."""


def invalid_parameter(param: str, message: str, value: str) -> RequestValidationError:
    """A 422 naming `param`, as FastAPI refuses a value."""
    return RequestValidationError(
        [{"loc": ("query", param), "msg": message, "type": "value_error", "input": value}]
    )


def search_words(search: str) -> tuple[str, ...]:
    """The distinct words of a list's `search`; refused (422) when it has none."""
    found = tuple(dict.fromkeys(words(search)))
    if not found:
        raise invalid_parameter("search", "search must contain letters or digits", search)
    return found


def check_page_size(per_page: int, page_size_max: int) -> None:
    """Refuse (422) a `per_page` above the directory's largest page."""
    if per_page > page_size_max:
        raise invalid_parameter(
            "per_page",
            f"per_page must be at most {page_size_max}; for every record at once, ask "
            "format=ndjson (one record a line, without pages)",
            str(per_page),
        )


def modified_moment(value: str) -> datetime:
    """`modified_after` as a UTC moment (a date or date-time, ISO 8601; without a zone in
    UTC); 422 saying how to write one."""
    try:
        return utc_moment(value)
    except ValueError:
        raise invalid_parameter(
            "modified_after",
            f"modified_after must be a date or date-time (ISO 8601), e.g. "
            f"2026-11-29T08:00:00Z or 2026-11-29{plus_in_url_hint(value)}",
            value,
        ) from None
    except OverflowError:
        raise invalid_parameter(
            "modified_after",
            "modified_after must lie within the years 1 to 9999 in UTC; give a later date",
            value,
        ) from None


def _query(
    type_: str,
    search: str | None,
    postcode: str | None,
    taxonomy_term_id: str | None,
    modified_after: str | None,
    organization_id: str | None,
    near: Circle | None = None,
) -> ResourceQuery:
    """The search of a list; within `near` (a `proximity` around the postcode's centroid)
    the postcode is that circle's centre, not a filter."""
    groups: list[tuple[str, ...]] = []
    if postcode is not None and near is None:
        groups.append((f"pc:{postcode}",))
    if taxonomy_term_id is not None:
        groups.append((f"taxonomy:{taxonomy_term_id}",))
    if organization_id is not None:
        groups.append((f"organization:{organization_id}",))
    prefixes = search_words(search) if search is not None else ()
    after: tuple[tuple[str, datetime], ...] = ()
    if modified_after is not None:
        after = (("ge", modified_moment(modified_after)),)
    return ResourceQuery(
        standard=HSDS,
        type=type_,
        any_terms=tuple(groups),
        name_prefixes=prefixes,
        active=True,
        updated=after,
        near=near,
    )


async def _proximity_circle(
    postcode: str | None, proximity: int | None, geocoder: Geocoder, most_km: float
) -> Circle | None:
    """The circle of `proximity` metres around the centroid of `postcode` (the HSDS API
    reference's `proximity`); None without `proximity`. 422 without a postcode, for a
    postcode the geocoder does not place, or beyond the directory's largest circle."""
    if proximity is None:
        return None
    if postcode is None:
        raise invalid_parameter(
            "proximity",
            "proximity needs postcode: give the postcode whose centroid the metres are "
            "measured from (postcode=9000&proximity=5000)",
            str(proximity),
        )
    if proximity > most_km * 1000:
        raise invalid_parameter(
            "proximity",
            f"proximity must be at most {most_km * 1000:.0f} metres; give a smaller circle",
            str(proximity),
        )
    centre = await geocoder.place(postcode)
    if centre is None:
        raise invalid_parameter(
            "postcode",
            f"postcode {postcode} is not a Belgian postcode this directory can place, and "
            "proximity is measured from its centroid: give another postcode, or leave out "
            "proximity to filter on this one",
            postcode,
        )
    return Circle(centre, proximity / 1000)


async def _page(
    connection: AsyncConnection, type_: str, query: ResourceQuery, page: int, per_page: int
) -> bytes:
    """One page as the HSDS API reference shows it, assembled from the stored texts."""
    total, found = await counted(connection, query, limit=per_page, offset=(page - 1) * per_page)
    return page_text(total, page, per_page, [record_text(type_, f) for f in found])


def page_text(total: int, page: int, per_page: int, contents: Sequence[bytes]) -> bytes:
    """A page of `total` records: its head as the HSDS API reference says, and `contents`
    (the encoded records of page `page`)."""
    pages = math.ceil(total / per_page) if total else 0
    head = orjson.dumps(
        {
            "total_items": total,
            "total_pages": pages,
            "page_number": page,
            "size": len(contents),
            "first_page": page == 1,
            "last_page": page >= pages,
            "empty": not contents,
        }
    )
    return b"".join((head[:-1], b',"contents":[', b",".join(contents), b"]}"))


def check_postcode(postcode: str | None) -> None:
    """Refuse (422) a `postcode` that is no Belgian postcode, saying what one is."""
    if postcode is not None and not _POSTCODE.fullmatch(postcode):
        raise invalid_parameter(
            "postcode",
            "postcode must be a Belgian postcode: 4 digits, 1000 to 9999 (9000)",
            postcode,
        )


def paging_of(format_: str, page: int | None, per_page: int | None) -> tuple[int, int]:
    """A list's page and page size (1 and 50 unless given); refused (422) with
    `format=ndjson`, which streams every match: a page asked of it is not silently
    ignored. An unknown `format` is refused too."""
    if format_ not in ("json", "ndjson"):
        raise invalid_parameter(
            "format",
            "format must be json (a page) or ndjson (every match, one record a line)",
            format_,
        )
    if format_ == "ndjson":
        for name, value in (("page", page), ("per_page", per_page)):
            if value is not None:
                raise invalid_parameter(
                    name,
                    "format=ndjson streams every match, without pages: leave out page and "
                    "per_page, or ask for format=json to read one page",
                    str(value),
                )
    return page or 1, per_page or 50


def _nothing_found(page: int, per_page: int, format_: str) -> Response:
    if format_ == "ndjson":
        return Response(b"", media_type=NDJSON)
    return Response(page_text(0, page, per_page, []), media_type="application/json")


def hsds_router(
    reads: Reads,
    settings: DirectorySettings,
    geocoder: Geocoder,
    route_class: type[APIRoute] = APIRoute,
    *,
    public_base_url: str = "",
) -> APIRouter:
    """`public_base_url` (SKAART_PUBLIC_BASE_URL): what the root's `openapi_url` starts
    with; empty: the request's own scheme and host."""
    public = public_base_url.rstrip("/")
    router = APIRouter(
        prefix="/hsds", tags=["public: Open Referral HSDS 3.0"], route_class=route_class
    )

    @router.get("/", summary="HSDS version of this API")
    async def root(request: Request) -> dict[str, str]:
        return {
            "version": HSDS_VERSION,
            "profile": "https://docs.openreferral.org/en/3.0/",
            "openapi_url": origin(request, public) + "/hsds/openapi.json",
        }

    @router.get("/openapi.json", summary="This API's OpenAPI description")
    async def openapi(request: Request) -> dict[str, Any]:
        # Under /hsds, where the gateway sends it to the directory (its /openapi.json at
        # the host's root is the portal's path); the HSDS endpoints alone.
        return hsds_description(request.app.openapi())

    def list_endpoint(path: str, type_: str, filters: tuple[str, ...]) -> Callable[..., Any]:
        async def listing(
            search: SearchWords = None,
            postcode: Postcode = None,
            taxonomy_term_id: Annotated[str | None, Query(max_length=64)] = None,
            modified_after: ModifiedAfter = None,
            organization_id: Annotated[str | None, Query(max_length=64)] = None,
            taxonomy_id: Annotated[str | None, Query(max_length=64)] = None,
            full: Annotated[
                bool,
                Query(
                    description="Taken, and changes nothing: a listed service carries its "
                    "own fields; /hsds/services/{id} nests its organization and locations."
                ),
            ] = True,
            proximity: Annotated[
                int | None,
                Query(
                    ge=1,
                    description="Metres from the centroid of `postcode`: the services at "
                    "locations within, nearest first (instead of those at the postcode).",
                ),
            ] = None,
            page: PageNumber = None,
            per_page: PageSize = None,
            format: ListFormat = "json",
        ) -> Response:
            page, per_page = paging_of(format, page, per_page)
            check_page_size(per_page, settings.public_page_size_max)
            check_postcode(postcode)
            near = await _proximity_circle(
                postcode, proximity, geocoder, settings.near_radius_km_max
            )
            query = _query(
                type_, search, postcode, taxonomy_term_id, modified_after, organization_id, near
            )
            # `full` (services): a page serves each stored service as it is, whatever is
            # asked; nesting its organization and locations is /services/{id}'s, a read.
            del full
            if taxonomy_id is not None and taxonomy_id != TAXONOMY_ID:
                # Every term is of the one taxonomy (/hsds/taxonomies): none of another.
                return _nothing_found(page, per_page, format)
            if format == "ndjson":
                return StreamingResponse(_stream(type_, query), media_type=NDJSON)
            async with reads.connect() as connection:
                body = await _page(connection, type_, query, page, per_page)
            return Response(body, media_type="application/json")

        listing.__name__ = f"list_{path}"
        # Only the parameters this list takes, in the API's schema (/docs, /openapi.json):
        # the others keep their defaults and are refused if sent (`only_parameters`).
        signature = inspect.signature(listing, eval_str=True)
        listing.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[p for p in signature.parameters.values() if p.name in (*filters, *_PAGING)]
        )
        # The checks of the parameters' annotations above, for the usual requests.
        readers: dict[str, Reader] = {
            "search": text(100),
            "modified_after": text(64),
            "postcode": text(16),
            "taxonomy_term_id": text(64),
            "organization_id": text(64),
            "taxonomy_id": text(64),
            "page": integer(1, 100_000),
            "per_page": integer(1, 10**9),
            "proximity": integer(1, 10**9),
            "format": text(16),
        }
        direct(listing, {name: readers[name] for name in (*filters, *_PAGING) if name in readers})
        return listing

    async def _stream(type_: str, query: ResourceQuery) -> AsyncIterator[bytes]:
        offset = 0
        while True:
            async with reads.connect() as connection:
                found = await find(connection, query, limit=_STREAM_PAGE, offset=offset)
            for record in found:
                yield record_text(type_, record) + b"\n"
            if len(found) < _STREAM_PAGE:
                return
            offset += _STREAM_PAGE

    def read_endpoint(type_: str) -> Callable[..., Any]:
        async def read(record_id: str) -> Response:
            async with reads.connect() as connection:
                found = [f for f in await by_ids(connection, HSDS, type_, [record_id]) if f.active]
                if not found:
                    raise HTTPException(404, f"no {type_} with id {record_id!r} on the map")
                nesting = _NESTINGS.get(type_)
                if nesting is None:  # a location is served as its list serves it
                    return Response(record_text(type_, found[0]), media_type="application/json")
                nested = await nesting(connection, served_record(type_, found[0]))
            return Response(orjson.dumps(nested), media_type="application/json")

        read.__name__ = f"read_{type_}"
        direct(read, {})  # a query parameter: through FastAPI, which refuses it
        return read

    for path, (type_, filters) in LISTS.items():
        router.add_api_route(
            f"/{path}",
            list_endpoint(path, type_, filters),
            methods=["GET"],
            summary=f"List {path} (paged, or format=ndjson)",
            response_class=Response,
            dependencies=[Depends(only_parameters((*filters, *_PAGING)))],
        )
        router.add_api_route(
            f"/{path}/{{record_id}}",
            read_endpoint(type_),
            methods=["GET"],
            summary=f"One {type_}",
            response_class=Response,
            dependencies=[Depends(only_parameters(()))],
        )
    return router
