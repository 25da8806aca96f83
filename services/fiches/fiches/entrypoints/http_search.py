"""Public search over published provider and practice fiches (no login).

Pagination is limit/offset over a stable order (name, then type and id): the public
pages through a handful of result pages, and a page number is what a search page
shows. Deep paging costs more per page, so `offset` is capped; agencies that want the
whole directory mirror the public topics instead. There is no total count: on a broad
search (every Dutch speaker) counting costs as much as reading all the matches, so a
page says `has_more` instead, for free.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from fiches.config import FichesSettings
from fiches.handlers.search_projection import (
    SearchFilters,
    SelectivityCache,
    normalized,
    run_search,
    words,
)
from servicekit.inputs import Limit
from servicekit.runtime import ServiceRuntime

MAX_OFFSET = 10_000
MAX_NAME_WORDS = 6


class SearchPage(BaseModel):
    """One page of search hits (documentation of the response)."""

    items: list[dict[str, Any]] = Field(
        description="Hits in name order. A provider hit: type `provider`, id, name (the "
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


def search_router(runtime: ServiceRuntime, settings: FichesSettings) -> APIRouter:
    """GET /api/fiches/search: published fiches only, by name and filters."""
    router = APIRouter(prefix="/api/fiches", tags=["public: search"])
    selectivity = SelectivityCache()

    @router.get(
        "/search",
        summary="Search published provider and practice fiches",
        response_class=Response,
        responses={200: {"model": SearchPage, "description": "One page of hits."}},
    )
    async def search(
        q: Annotated[
            str | None,
            Query(
                max_length=100,
                description="Name fragment(s): every word must start a word of the name "
                "(`jan pe` finds Jan Peeters and Peeters Jana). Accents and case are ignored.",
            ),
        ] = None,
        profession: Annotated[
            str | None,
            Query(
                max_length=60,
                description="Profession code (`physician`, `nurse`) or extra offer "
                "(`osteopath`). Practices match through their offer blocks.",
            ),
        ] = None,
        postcode: Annotated[
            str | None,
            Query(pattern=r"^[1-9][0-9]{3}$", description="Belgian postcode, 1000-9999."),
        ] = None,
        municipality: Annotated[
            str | None, Query(max_length=100, description="Municipality, e.g. `Gent`.")
        ] = None,
        target_group: Annotated[
            str | None, Query(max_length=100, description="Target group (doelgroep).")
        ] = None,
        language: Annotated[
            str | None,
            Query(pattern=r"^[A-Za-z]{2}$", description="ISO 639-1 language code, e.g. `nl`."),
        ] = None,
        type: Annotated[
            Literal["provider", "practice"] | None,
            Query(description="Only providers or only practices; default both."),
        ] = None,
        limit: Annotated[Limit, Query(description="Hits per page.")] = 20,
        offset: Annotated[
            int, Query(ge=0, le=MAX_OFFSET, description="Hits to skip (at most 10,000).")
        ] = 0,
    ) -> Response:
        if limit > settings.public_page_size_max:
            raise _invalid(
                "limit",
                f"limit must be at most {settings.public_page_size_max}",
                str(limit),
            )
        name_words: tuple[str, ...] = ()
        if q is not None:
            name_words = tuple(dict.fromkeys(words(q)))
            if not name_words:
                raise _invalid("q", "q must contain letters or digits", q)
            if len(name_words) > MAX_NAME_WORDS:
                raise _invalid("q", f"q may have at most {MAX_NAME_WORDS} words", q)
        filters = SearchFilters(
            name_words=name_words,
            profession=_term("profession", profession),
            postcode=postcode,
            municipality=_term("municipality", municipality),
            target_group=_term("target_group", target_group),
            language=language.lower() if language else None,
            kind=type,
        )
        async with runtime.engine.connect() as connection:
            documents = await run_search(
                connection, filters, limit=limit + 1, offset=offset, cache=selectivity
            )
        has_more = len(documents) > limit
        documents = documents[:limit]
        # Documents are stored as JSON text: the page is assembled without re-encoding.
        body = b"".join(
            (
                b'{"items":[',
                ",".join(documents).encode(),
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
        return Response(content=body, media_type="application/json")

    return router
