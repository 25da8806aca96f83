""" "Mijn fiches" and its next steps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from portal.adapters.services import ServiceClients
from portal.entrypoints.pages_account import next_page
from portal.entrypoints.web import CheckedForm, logged_in_user, render, session_of
from portal.handlers.my_fiches import OFFLINE_REASONS, SITUATIONS, ask_link, my_fiches


def fiches_router(clients: ServiceClients) -> APIRouter:
    router = APIRouter()

    @router.get("/mijn-fiches")
    async def my_fiches_page(
        request: Request,
        praktijk: Annotated[list[str] | None, Query(max_length=200)] = None,
    ) -> Response:
        user = logged_in_user(request)
        if user.get("status") != "active":
            return RedirectResponse(next_page(user.get("status")), status_code=303)
        found = await my_fiches(clients, session_of(request), praktijk or [])
        return render(
            request,
            "my_fiches.html",
            found=found,
            situations=SITUATIONS,
            offline_reasons=OFFLINE_REASONS,
            asked=request.query_params.get("gevraagd"),
        )

    @router.post("/mijn-fiches/praktijken/{practice_id}/koppelen")
    async def link_offer(request: Request, practice_id: str, form: CheckedForm) -> Response:
        user = logged_in_user(request)
        chosen = [str(v) for v in form.getlist("beroep")] or list(user.get("professions", []))
        await ask_link(clients, session_of(request), practice_id, chosen)
        return RedirectResponse(f"/mijn-fiches?gevraagd={practice_id}", status_code=303)

    return router
