"""FHIR R4 at /fhir: the directory as IHE mCSD describes a provider directory.

Read (`/fhir/{type}/{id}`), search (ITI-90, `/fhir/{type}?...`) and history (ITI-91,
`/fhir/{type}/_history?_since=`) of Practitioner, PractitionerRole, Organization,
Location and HealthcareService; `/fhir/metadata` (CapabilityStatement) and the profession
CodeSystem. JSON only (`application/fhir+json`). Errors are OperationOutcomes: 400 for a
search the server refuses (an unknown parameter included: a misspelt filter must not
widen a search), 404 for an unknown resource.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncConnection

from directory.adapters.read_engine import Reads
from directory.adapters.standard_queries import (
    Found,
    ResourceQuery,
    by_ids,
    changed_since,
    count,
    find,
)
from directory.config import DirectorySettings
from directory.domain.fhir import profession_code_system
from directory.domain.resources import FHIR
from directory.entrypoints.fhir_bundles import (
    bundle_text,
    entry_text,
    history_entry_text,
    referenced,
    resource_text,
)
from directory.entrypoints.fhir_history import PAGE_AFTER, history_paging, page_after
from directory.entrypoints.fhir_parameters import (
    BadRequest,
    ParsedSearch,
    check_format,
    parse_search,
)
from directory.entrypoints.fhir_search_tables import (
    INCLUDES,
    REVINCLUDES,
    SEARCH_PARAMETERS,
    TYPES,
)
from directory.entrypoints.negotiation import admits_json, prefers_lenient
from directory.entrypoints.public_origin import origin
from directory.entrypoints.query_parameters import direct
from servicekit.inputs import refused_character

FHIR_JSON = "application/fhir+json; charset=utf-8"
FHIR_VERSION = "4.0.1"


def fhir_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON)


def outcome(status: int, code: str, diagnostics: str) -> Response:
    return fhir_response(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
        },
        status,
    )


def _base(request: Request, public: str) -> str:
    return origin(request, public) + "/fhir"


def _url(request: Request, public: str) -> str:
    """The request's own URL as the client reached it."""
    query = request.url.query
    return origin(request, public) + request.url.path + (f"?{query}" if query else "")


def _next_link(self_url: str, links: list[dict[str, str]], name: str, value: str | int) -> None:
    """The page's own URL with its paging (`_offset`, `_page_after`) replaced by
    `name=value`, put last; the other parameters stay as the client sent them. Starlette's
    `include_query_params` decoded and encoded them all again: a twentieth of a `near`
    search's time."""
    unpaged = _without(self_url, _PAGING)
    joiner = "&" if "?" in unpaged else "?"
    links.append(
        {"relation": "next", "url": f"{unpaged}{joiner}{name}={quote(str(value), safe='')}"}
    )


_PAGING = ("_offset", PAGE_AFTER)


def _without(url: str, names: Collection[str]) -> str:
    """`url` without the parameters `names` (a page's paging, a lenient search's ignored
    parameters); the others stay as the client sent them."""
    address, _, query = url.partition("?")
    kept = [part for part in query.split("&") if part and _name(part) not in names]
    return address + (f"?{'&'.join(kept)}" if kept else "")


def _name(parameter: str) -> str:
    name = parameter.partition("=")[0]
    return unquote_plus(name) if "%" in name or "+" in name else name


async def _searchset(
    connection: AsyncConnection, base: str, type_: str, parsed: ParsedSearch
) -> tuple[list[bytes], bool]:
    """The encoded entries of one searchset page (matches, then what they include), and
    whether a next page exists."""
    if parsed.nothing or parsed.only_total:
        return [], False
    page = await find(connection, parsed.query, limit=parsed.count + 1, offset=parsed.offset)
    matches = page[: parsed.count]
    entries = [entry_text(base, type_, f, "match") for f in matches]
    for element, target in parsed.includes:
        ids = [i for f in matches for i in referenced(f, element)]
        included = await by_ids(connection, FHIR, target, ids)
        entries += [entry_text(base, target, f, "include") for f in included]
    for referrer, term in parsed.revincludes:
        if not matches:
            continue
        query = ResourceQuery(FHIR, referrer, any_terms=(tuple(f"{term}:{f.id}" for f in matches),))
        referring = await find(connection, query, limit=10_000, offset=0)
        entries += [entry_text(base, referrer, f, "include") for f in referring]
    return entries, len(page) > parsed.count


def capability_statement(base: str) -> dict[str, Any]:
    resources = []
    for type_ in TYPES:
        resources.append(
            {
                "type": type_,
                "interaction": [
                    {"code": "read"},
                    {"code": "search-type"},
                    {"code": "history-type"},
                ],
                "searchInclude": list(INCLUDES.get(type_, {})),
                "searchRevInclude": list(REVINCLUDES.get(type_, {})),
                "searchParam": [
                    {"name": name, "type": kind if kind != "special" else "special"}
                    for name, kind in [
                        ("_id", "token"),
                        ("_lastUpdated", "date"),
                        *SEARCH_PARAMETERS[type_].items(),
                    ]
                ],
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-29",
        "publisher": "Sociale Kaart",
        "kind": "instance",
        "implementation": {"description": "Sociale Kaart public directory", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        # No `instantiates` of mCSD's Directory: it asks more than this server answers (XML,
        # most chained parameters, :exact); docs/directory.md says which part.
        "rest": [{"mode": "server", "resource": resources}],
    }


def not_acceptable(request: Request) -> Response | None:
    """406 when the `Accept` header admits no JSON (`application/fhir+xml` alone): this
    server answers JSON only. No header, `*/*` (curl's, a browser's) or any JSON type is
    fine."""
    accept = request.headers.get("accept")
    if admits_json(accept):
        return None
    assert accept is not None
    return outcome(
        406,
        "not-supported",
        f"this server answers JSON only (application/fhir+json); the Accept header asks "
        f"for {accept[:100]!r}",
    )


SEARCH_BODY_MAX = 16_384
"""The largest form body of a POST search, in bytes (a GET's query is bounded by the
gateway's line length; a search's parameters are far shorter)."""


async def posted_parameters(request: Request) -> list[tuple[str, str]] | Response:
    """A POST search's parameters: the query's, then the form body's; or the
    OperationOutcome refusing the body (not a form, too large, not UTF-8, a control
    character)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        return outcome(
            415,
            "not-supported",
            "a POST search sends its parameters as application/x-www-form-urlencoded, "
            "written as a GET search's query (name=marc&_count=10)",
        )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > SEARCH_BODY_MAX:
            return outcome(
                413, "too-costly", f"a POST search's body is at most {SEARCH_BODY_MAX} bytes"
            )
    try:
        items = parse_qsl(request.url.query, keep_blank_values=True)
        items += parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return outcome(400, "invalid", "a POST search's body must be UTF-8")
    for name, value in items:
        reason = refused_character(name) or refused_character(value)
        if reason:
            return outcome(400, "invalid", f"{name}: the value {reason}")
    return items


def version_headers(found: Found) -> dict[str, str]:
    """A read's ETag (its versionId, weak, as FHIR writes it) and Last-Modified."""
    return {
        "ETag": f'W/"{found.version}"',
        "Last-Modified": format_datetime(_utc(found.last_updated), usegmt=True),
    }


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _unknown_type(type_: str) -> Response:
    if type_ == "_history":
        return outcome(
            404,
            "not-found",
            "no history of the whole server: ask each type's, /fhir/{type}/_history "
            f"({', '.join(TYPES)})",
        )
    return outcome(
        404, "not-found", f"unknown resource type {type_!r}; this server serves {', '.join(TYPES)}"
    )


def fhir_router(
    reads: Reads,
    settings: DirectorySettings,
    route_class: type[APIRoute] = APIRoute,
    *,
    public_base_url: str = "",
) -> APIRouter:
    """`public_base_url` (SKAART_PUBLIC_BASE_URL): what the links of every answer start
    with; empty: the request's own scheme and host."""
    public = public_base_url.rstrip("/")
    router = APIRouter(prefix="/fhir", tags=["public: FHIR R4 (IHE mCSD)"], route_class=route_class)

    @router.get("/metadata", summary="CapabilityStatement", response_class=Response)
    async def metadata(request: Request) -> Response:
        if (refusal := not_acceptable(request)) is not None:
            return refusal
        return fhir_response(capability_statement(_base(request, public)))

    @router.get(
        "/CodeSystem/profession", summary="The professions (nl, fr, en)", response_class=Response
    )
    async def professions() -> Response:
        return fhir_response(profession_code_system())

    @router.get("/{type_}/_history", summary="Changes since (ITI-91)", response_class=Response)
    async def history(type_: str, request: Request) -> Response:
        if type_ not in TYPES:
            return _unknown_type(type_)
        if (refusal := not_acceptable(request)) is not None:
            return refusal
        try:
            paging = history_paging(
                list(request.query_params.multi_items()), settings.public_page_size_max
            )
        except BadRequest as error:
            return outcome(400, "invalid", str(error))
        if paging.format is not None:
            try:
                check_format(paging.format)
            except BadRequest as error:
                return outcome(400, "not-supported", str(error))
        async with reads.connect() as connection:
            changed = await changed_since(
                connection,
                FHIR,
                type_,
                paging.since,
                limit=paging.count + 1,
                offset=paging.offset,
                after=paging.after,
            )
        base = _base(request, public)
        links = [{"relation": "self", "url": _url(request, public)}]
        page = changed[: paging.count]
        if len(changed) > paging.count:
            last = page[-1]
            _next_link(links[0]["url"], links, PAGE_AFTER, page_after(last.last_updated, last.id))
        entries = [history_entry_text(base, type_, found) for found in page]
        return Response(bundle_text("history", links, entries), media_type=FHIR_JSON)

    @router.get("/{type_}/{resource_id}", summary="Read one resource", response_class=Response)
    async def read(type_: str, resource_id: str, request: Request) -> Response:
        if type_ not in TYPES:
            return _unknown_type(type_)
        if (refusal := not_acceptable(request)) is not None:
            return refusal
        try:
            for value in request.query_params.getlist("_format"):
                check_format(value)
        except BadRequest as error:
            return outcome(400, "not-supported", str(error))
        async with reads.connect() as connection:
            found = await by_ids(connection, FHIR, type_, [resource_id])
        if not found:
            return outcome(404, "not-found", f"no {type_} with id {resource_id!r}")
        return Response(
            resource_text(found[0]), media_type=FHIR_JSON, headers=version_headers(found[0])
        )

    async def answer(
        type_: str, request: Request, items: list[tuple[str, str]], self_url: str
    ) -> Response:
        """A searchset for `items`, whose own URL (the GET that asks the same) is
        `self_url`."""
        try:
            parsed = parse_search(
                type_,
                items,
                page_max=settings.public_page_size_max,
                near_km_max=settings.near_radius_km_max,
                lenient=prefers_lenient(request.headers),
            )
        except BadRequest as error:
            return outcome(400, "invalid", str(error))
        total: int | None = None
        async with reads.connect() as connection:
            entries, more = await _searchset(connection, _base(request, public), type_, parsed)
            if parsed.total:
                total = 0 if parsed.nothing else await count(connection, parsed.query)
        if parsed.ignored:
            self_url = _without(self_url, parsed.ignored)
        links = [{"relation": "self", "url": self_url}]
        if more:
            _next_link(self_url, links, "_offset", parsed.offset + parsed.count)
        return Response(bundle_text("searchset", links, entries, total), media_type=FHIR_JSON)

    @router.get("/{type_}", summary="Search (ITI-90)", response_class=Response)
    async def search(type_: str, request: Request) -> Response:
        if type_ not in TYPES:
            return _unknown_type(type_)
        if (refusal := not_acceptable(request)) is not None:
            return refusal
        items = list(request.query_params.multi_items())
        return await answer(type_, request, items, _url(request, public))

    @router.post("/{type_}/_search", summary="Search by POST (ITI-90)", response_class=Response)
    async def search_by_post(type_: str, request: Request) -> Response:
        """The same search with its parameters in a form body (and the query): what mCSD
        asks a server to take besides GET."""
        if type_ not in TYPES:
            return _unknown_type(type_)
        if (refusal := not_acceptable(request)) is not None:
            return refusal
        items = await posted_parameters(request)
        if isinstance(items, Response):
            return items
        self_url = f"{_base(request, public)}/{type_}" + (f"?{urlencode(items)}" if items else "")
        return await answer(type_, request, items, self_url)

    # Last: what no route above took is answered as FHIR answers, an OperationOutcome,
    # not the platform's problem JSON (nor, in monolithic mode, the portal's page).
    @router.api_route(
        "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    async def elsewhere(path: str, request: Request) -> Response:
        if request.method != "GET":
            return outcome(
                405,
                "not-supported",
                f"{request.method} is not supported: this FHIR server is read-only "
                "(read, search and history with GET; a search also as POST "
                "/fhir/{type}/_search)",
            )
        return outcome(
            404,
            "not-found",
            f"no FHIR endpoint at /fhir/{path}; /fhir/metadata lists what this server offers",
        )

    @router.get("", include_in_schema=False)
    async def base() -> Response:
        return outcome(
            404, "not-found", "no FHIR endpoint at /fhir; /fhir/metadata lists what it offers"
        )

    # Their parameters are text (the path's) or read from the request by the endpoints
    # themselves: FastAPI has nothing to validate.
    direct(metadata, None, takes_request=True)
    direct(history, None, takes_request=True)
    direct(read, None, takes_request=True)
    direct(search, None, takes_request=True)
    direct(search_by_post, None, takes_request=True)
    direct(elsewhere, None, takes_request=True)
    direct(base, None)
    return router
