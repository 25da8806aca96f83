"""The provider fiche's edit version, part "Aanbod per praktijk": stopping at a practice
with a delete action, a confirmation step, then "Opslaan" / "Opslaan en publiceren"."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from portal.entrypoints.web import (
    CheckedForm,
    Clients,
    logged_in_user,
    render,
    see_other,
    session_of,
)
from portal.handlers import provider_offers


def offers_path(fiche_id: str) -> str:
    return f"/zorgverleners/{fiche_id}/bewerken/praktijken"


router = APIRouter()


@router.get("/zorgverleners/{fiche_id}/bewerken/praktijken")
async def offers(request: Request, clients: Clients, fiche_id: str) -> Response:
    logged_in_user(request)
    found = await provider_offers.offers_by_practice(clients, session_of(request), fiche_id)
    return render(
        request,
        "provider_offers.html",
        fiche_id=fiche_id,
        offers=found,
        waiting=any(o["to_delete"] for o in found),
        notice=request.query_params.get("gelukt"),
    )


@router.get("/zorgverleners/{fiche_id}/bewerken/praktijken/{practice_id}/{profession}")
async def confirm_page(
    request: Request, clients: Clients, fiche_id: str, practice_id: str, profession: str
) -> Response:
    logged_in_user(request)
    found = await provider_offers.offers_by_practice(clients, session_of(request), fiche_id)
    offer = next(
        (o for o in found if (o["practice_id"], o["profession"]) == (practice_id, profession)),
        None,
    )
    if offer is None:
        return render(request, "not_found.html", status=404)
    return render(request, "provider_offer_confirm.html", fiche_id=fiche_id, offer=offer)


@router.post("/zorgverleners/{fiche_id}/bewerken/praktijken/{practice_id}/{profession}")
async def confirm(
    request: Request, fiche_id: str, practice_id: str, profession: str, form: CheckedForm
) -> Response:
    logged_in_user(request)
    provider_offers.mark(session_of(request), fiche_id, practice_id, profession)
    return see_other(offers_path(fiche_id))


@router.post("/zorgverleners/{fiche_id}/bewerken/praktijken")
async def save(request: Request, clients: Clients, fiche_id: str, form: CheckedForm) -> Response:
    logged_in_user(request)
    session = session_of(request)
    if form.get("actie") == "annuleren":
        provider_offers.forget(session, fiche_id)
        return see_other(offers_path(fiche_id))
    publish = form.get("actie") == "publiceren"
    await provider_offers.save(clients, session, fiche_id, publish)
    done = "gepubliceerd" if publish else "opgeslagen"
    return see_other(f"{offers_path(fiche_id)}?gelukt={done}")
