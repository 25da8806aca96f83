"""Pages for everybody: home, search, public provider and practice pages, language switch."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from portal.adapters.services import ServiceClients
from portal.domain.languages import supported
from portal.entrypoints.web import Clients, render, see_other, session_of
from portal.handlers.search import SearchForm, search


def safe_next(value: str | None) -> str:
    """A path on this site to go back to (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


router = APIRouter()


@router.get("/")
async def home(request: Request) -> Response:
    return render(request, "home.html", form=SearchForm())


@router.get("/taal/{code}")
async def switch_language(request: Request, code: str, terug: str | None = None) -> Response:
    language = supported(code)
    session = session_of(request)
    if language:
        session.set("lang", language)
        session.set("lang_chosen", True)
    return see_other(safe_next(terug))


@router.get("/zoeken")
async def search_page(
    request: Request,
    clients: Clients,
    naam: Annotated[str, Query(max_length=100)] = "",
    beroep: Annotated[str, Query(max_length=60)] = "",
    plaats: Annotated[str, Query(max_length=100)] = "",
    doelgroep: Annotated[str, Query(max_length=100)] = "",
    taal: Annotated[str, Query(max_length=2)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    form = SearchForm(naam, beroep, plaats, doelgroep, taal, offset)
    outcome = None if form.empty else await search(clients, form)
    return render(
        request,
        "search.html",
        form=form,
        outcome=outcome,
        errors=outcome.errors if outcome else {},
        status=422 if outcome and outcome.errors else 200,
    )


@router.get("/zorgverleners/{fiche_id}")
async def provider_page(request: Request, clients: Clients, fiche_id: str) -> Response:
    fiche = await _published(clients, f"/api/fiches/providers/{fiche_id}")
    if fiche is None:
        return render(request, "not_found.html", status=404)
    return render(
        request, "provider.html", fiche=fiche, practices=await _practices_of(clients, fiche)
    )


async def _practices_of(
    clients: ServiceClients, fiche: dict[str, object]
) -> list[dict[str, object]]:
    # The search documents list where a provider's offer is published.
    name = f"{fiche['official_first_name']} {fiche['official_last_name']}"
    found = await clients.call(
        "directory", "GET", "/api/directory/search", params={"q": name, "type": "provider"}
    )
    if found.status_code != 200:
        return []
    for hit in found.json().get("items", []):
        if hit.get("id") == fiche["fiche_id"]:
            return list(hit.get("practices", []))
    return []


@router.get("/praktijken/{practice_id}")
async def practice_page(request: Request, clients: Clients, practice_id: str) -> Response:
    practice = await _published(clients, f"/api/fiches/practices/{practice_id}")
    if practice is None:
        return render(request, "not_found.html", status=404)
    return render(request, "practice.html", practice=practice)


async def _published(clients: ServiceClients, path: str) -> dict[str, Any] | None:
    """A published fiche as fiches gives it to anyone, or None when there is none."""
    response = await clients.call("fiches", "GET", path)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    fiche: dict[str, Any] = response.json()
    return fiche
