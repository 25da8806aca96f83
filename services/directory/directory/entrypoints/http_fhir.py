"""FHIR R4 at /fhir: the directory as IHE mCSD describes a provider directory.

Read (`/fhir/{type}/{id}`), search (ITI-90, `/fhir/{type}?...`) and history (ITI-91,
`/fhir/{type}/_history?_since=`) of Practitioner, PractitionerRole, Organization,
Location and HealthcareService; `/fhir/metadata` (CapabilityStatement) and the profession
CodeSystem. JSON only (`application/fhir+json`). Errors are OperationOutcomes: 400 for a
search the server refuses (an unknown parameter included: a misspelt filter must not
widen a search), 404 for an unknown resource.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from directory.adapters.standard_queries import (
    Found,
    ResourceQuery,
    by_ids,
    changed_since,
    find,
)
from directory.config import DirectorySettings
from directory.domain.fhir import profession_code_system
from directory.domain.resources import FHIR
from directory.entrypoints.fhir_parameters import (
    INCLUDES,
    REVINCLUDES,
    SEARCH_PARAMETERS,
    TYPES,
    BadRequest,
    parse_instant,
    parse_search,
)
from servicekit.runtime import ServiceRuntime

FHIR_JSON = "application/fhir+json"
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


def _instant(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def resource_of(found: Found) -> dict[str, Any]:
    """The stored resource with its meta (version and time of its last change)."""
    resource: dict[str, Any] = orjson.loads(found.content)
    resource["meta"] = {
        "versionId": str(found.version),
        "lastUpdated": _instant(found.last_updated),
    }
    return resource


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _entry(base: str, type_: str, found: Found, mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{type_}/{found.id}",
        "resource": resource_of(found),
        "search": {"mode": mode},
    }


def _referenced(resource: dict[str, Any], element: str) -> list[str]:
    value = resource.get(element)
    references = value if isinstance(value, list) else [value] if value else []
    return [r["reference"].rpartition("/")[2] for r in references if "reference" in r]


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
        "instantiates": [
            "https://profiles.ihe.net/ITI/mCSD/CapabilityStatement/IHE.mCSD.Directory"
        ],
        "rest": [{"mode": "server", "resource": resources}],
    }


def fhir_router(runtime: ServiceRuntime, settings: DirectorySettings) -> APIRouter:
    router = APIRouter(prefix="/fhir", tags=["public: FHIR R4 (IHE mCSD)"])

    @router.get("/metadata", summary="CapabilityStatement", response_class=Response)
    async def metadata(request: Request) -> Response:
        return fhir_response(capability_statement(_base(request)))

    @router.get(
        "/CodeSystem/profession", summary="The professions (nl, fr, en)", response_class=Response
    )
    async def professions() -> Response:
        return fhir_response(profession_code_system())

    @router.get("/{type_}/_history", summary="Changes since (ITI-91)", response_class=Response)
    async def history(type_: str, request: Request) -> Response:
        if type_ not in TYPES:
            return outcome(404, "not-found", f"unknown resource type {type_!r}")
        since: datetime | None = None
        count, offset = 100, 0
        try:
            for name, value in request.query_params.multi_items():
                if name == "_since":
                    since = parse_instant(name, value)
                elif name == "_count":
                    count = int(value)
                    if not 1 <= count <= settings.public_page_size_max:
                        raise BadRequest(f"_count: between 1 and {settings.public_page_size_max}")
                elif name == "_offset":
                    offset = int(value)
                    if offset < 0:
                        raise BadRequest("_offset: 0 or more")
                else:
                    raise BadRequest(f"unknown parameter {name!r}; _history takes _since, _count")
        except ValueError as error:
            return outcome(400, "invalid", str(error))
        async with runtime.engine.connect() as connection:
            changed = await changed_since(
                connection, FHIR, type_, since, limit=count + 1, offset=offset
            )
        base = _base(request)
        links = [{"relation": "self", "url": str(request.url)}]
        if len(changed) > count:
            links.append(
                {
                    "relation": "next",
                    "url": str(request.url.include_query_params(_offset=offset + count)),
                }
            )
        return fhir_response(
            {
                "resourceType": "Bundle",
                "type": "history",
                "link": links,
                "entry": [
                    {
                        "fullUrl": f"{base}/{type_}/{found.id}",
                        "resource": resource_of(found),
                        # Depublished resources stay, marked inactive: never a silent delete.
                        "request": {"method": "PUT", "url": f"{type_}/{found.id}"},
                        "response": {
                            "status": "201 Created" if found.version == 1 else "200 OK",
                            "lastModified": _instant(found.last_updated),
                        },
                    }
                    for found in changed[:count]
                ],
            }
        )

    @router.get("/{type_}/{resource_id}", summary="Read one resource", response_class=Response)
    async def read(type_: str, resource_id: str) -> Response:
        if type_ not in TYPES:
            return outcome(404, "not-found", f"unknown resource type {type_!r}")
        async with runtime.engine.connect() as connection:
            found = await by_ids(connection, FHIR, type_, [resource_id])
        if not found:
            return outcome(404, "not-found", f"no {type_} with id {resource_id!r}")
        return fhir_response(resource_of(found[0]))

    @router.get("/{type_}", summary="Search (ITI-90)", response_class=Response)
    async def search(type_: str, request: Request) -> Response:
        if type_ not in TYPES:
            return outcome(404, "not-found", f"unknown resource type {type_!r}")
        try:
            parsed = parse_search(
                type_,
                list(request.query_params.multi_items()),
                page_max=settings.public_page_size_max,
            )
        except BadRequest as error:
            return outcome(400, "invalid", str(error))
        base = _base(request)
        async with runtime.engine.connect() as connection:
            page = await find(
                connection, parsed.query, limit=parsed.count + 1, offset=parsed.offset
            )
            matches = page[: parsed.count]
            entries = [_entry(base, type_, f, "match") for f in matches]
            resources = [e["resource"] for e in entries]
            for element, target in parsed.includes:
                ids = [i for r in resources for i in _referenced(r, element)]
                included = await by_ids(connection, FHIR, target, ids)
                entries += [_entry(base, target, f, "include") for f in included]
            for referrer, term in parsed.revincludes:
                query = ResourceQuery(
                    FHIR, referrer, any_terms=(tuple(f"{term}:{f.id}" for f in matches),)
                )
                if matches:
                    referring = await find(connection, query, limit=10_000, offset=0)
                    entries += [_entry(base, referrer, f, "include") for f in referring]
        links = [{"relation": "self", "url": str(request.url)}]
        if len(page) > parsed.count:
            links.append(
                {
                    "relation": "next",
                    "url": str(
                        request.url.include_query_params(_offset=parsed.offset + parsed.count)
                    ),
                }
            )
        return fhir_response(
            {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}
        )

    return router
