"""HSDS 3.0 `/taxonomies` and `/taxonomy_terms`: the professions a service's
`taxonomy_term_id` filter takes, as the HSDS API reference lists them.

One taxonomy (the platform's professions) and one term per known profession, from the
code system the directory ships (domain/professions.py), not from the database: they are
the same on every replica and answer without a query. Paged and filtered as the reference
says (`search`, `page`, `per_page`, `format=ndjson`; terms also `taxonomy_id`, `parent_id`,
`top_only`). An unknown parameter, or one given twice, is refused with 422.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute

from directory.config import DirectorySettings
from directory.domain.hsds import TAXONOMY_ID, taxonomies, taxonomy, taxonomy_terms
from directory.entrypoints.http_hsds import (
    NDJSON,
    ListFormat,
    PageNumber,
    PageSize,
    SearchWords,
    check_page_size,
    page_text,
    paging_of,
    search_words,
)
from directory.entrypoints.query_parameters import only_parameters

_PAGING = ("search", "page", "per_page", "format")
_TERM_FILTERS = ("taxonomy_id", "parent_id", "top_only")


def _searched(search: str | None) -> str | None:
    """`search` as given, once `search_words` has refused one without words."""
    if search is not None:
        search_words(search)
    return search


def _answer(
    records: list[dict[str, Any]], page: int, per_page: int, format_: str, page_size_max: int
) -> Response:
    check_page_size(per_page, page_size_max)
    if format_ == "ndjson":
        lines: Iterator[bytes] = (orjson.dumps(record) + b"\n" for record in records)
        return StreamingResponse(lines, media_type=NDJSON)
    shown = records[(page - 1) * per_page : page * per_page]
    body = page_text(len(records), page, per_page, [orjson.dumps(r) for r in shown])
    return Response(body, media_type="application/json")


def hsds_taxonomy_router(
    settings: DirectorySettings, route_class: type[APIRoute] = APIRoute
) -> APIRouter:
    router = APIRouter(
        prefix="/hsds", tags=["public: Open Referral HSDS 3.0"], route_class=route_class
    )

    @router.get(
        "/taxonomies",
        summary="List taxonomies (the professions)",
        response_class=Response,
        dependencies=[Depends(only_parameters(_PAGING))],
    )
    async def list_taxonomies(
        search: SearchWords = None,
        page: PageNumber = None,
        per_page: PageSize = None,
        format: ListFormat = "json",
    ) -> Response:
        found = taxonomies(_searched(search))
        return _answer(
            found, *paging_of(format, page, per_page), format, settings.public_page_size_max
        )

    @router.get(
        "/taxonomies/{taxonomy_id}",
        summary="One taxonomy",
        response_class=Response,
        dependencies=[Depends(only_parameters(()))],
    )
    async def read_taxonomy(taxonomy_id: str) -> Response:
        if taxonomy_id != TAXONOMY_ID:
            raise HTTPException(404, f"no taxonomy with id {taxonomy_id!r}")
        return Response(orjson.dumps(taxonomy()), media_type="application/json")

    @router.get(
        "/taxonomy_terms",
        summary="List taxonomy terms (one per profession; the services' taxonomy_term_id)",
        response_class=Response,
        dependencies=[Depends(only_parameters((*_PAGING, *_TERM_FILTERS)))],
    )
    async def list_taxonomy_terms(
        search: SearchWords = None,
        taxonomy_id: Annotated[str | None, Query(max_length=64)] = None,
        parent_id: Annotated[str | None, Query(max_length=64)] = None,
        top_only: Annotated[bool, Query(description="Terms without a parent.")] = False,
        page: PageNumber = None,
        per_page: PageSize = None,
        format: ListFormat = "json",
    ) -> Response:
        found = taxonomy_terms(_searched(search))
        if taxonomy_id is not None and taxonomy_id != TAXONOMY_ID:
            found = []
        if parent_id is not None:
            found = []  # every profession is a term of the first level: none has a parent
        del top_only  # every term is a top one: the filter keeps them all
        return _answer(
            found, *paging_of(format, page, per_page), format, settings.public_page_size_max
        )

    @router.get(
        "/taxonomy_terms/{term_id}",
        summary="One taxonomy term",
        response_class=Response,
        dependencies=[Depends(only_parameters(()))],
    )
    async def read_taxonomy_term(term_id: str) -> Response:
        found = [term for term in taxonomy_terms() if term_id in (term["id"], term["code"])]
        if not found:
            raise HTTPException(404, f"no taxonomy term with id {term_id!r}")
        return Response(orjson.dumps(found[0]), media_type="application/json")

    return router
