"""Exports: ask for one, see their state ("Exports"), and the page the mailed link opens
(`/exports/{id}/downloaden`, fiches' DOWNLOAD_PAGE_PATH) with the files to download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from portal.entrypoints.web import (
    CheckedForm,
    Clients,
    logged_in_user,
    render,
    see_other,
    session_of,
)
from portal.handlers import exports

#: A signed link must not be kept by caches, nor leak through the Referer header.
LINK_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
Signature = Annotated[str, Query(max_length=100)]
Expires = Annotated[int, Query(ge=0)]


router = APIRouter()


@router.get("/exports")
async def exports_page(request: Request, clients: Clients) -> Response:
    logged_in_user(request)
    found = await exports.states(clients, session_of(request))
    return render(request, "exports.html", items=found, values={"formaat": list(exports.FORMATS)})


@router.post("/exports")
async def ask(request: Request, clients: Clients, form: CheckedForm) -> Response:
    logged_in_user(request)
    session = session_of(request)
    chosen = [str(f) for f in form.getlist("formaat")]
    asked = await exports.ask(clients, session, chosen)
    if asked.errors:
        return render(
            request,
            "exports.html",
            status=422,
            items=await exports.states(clients, session),
            errors=asked.errors,
            values={"formaat": chosen},
        )
    return see_other("/exports?gelukt=aangevraagd")


@router.get("/exports/{export_id}/downloaden")
async def download_page(
    request: Request, export_id: str, expires: Expires, signature: Signature
) -> Response:
    response = render(
        request,
        "export_download.html",
        export_id=export_id,
        expires=expires,
        signature=signature,
        formats=exports.FORMATS,
    )
    response.headers.update(LINK_HEADERS)
    return response


@router.get("/exports/{export_id}/bestand")
async def download(
    request: Request,
    clients: Clients,
    export_id: str,
    expires: Expires,
    signature: Signature,
    formaat: Annotated[str, Query(max_length=10)] = "csv",
) -> Response:
    fmt = formaat if formaat in exports.FORMATS else "csv"
    answer = await exports.download(clients, export_id, expires, signature, fmt)
    if answer.status_code != 200:
        reason = "expired" if answer.status_code == 410 else "invalid"
        page = render(
            request,
            "export_link_failed.html",
            reason=reason,
            status=410 if reason == "expired" else 403,
        )
        page.headers.update(LINK_HEADERS)
        return page
    return Response(
        content=answer.content,
        media_type=answer.headers.get("content-type"),
        headers={
            "Content-Disposition": answer.headers.get(
                "content-disposition", f'attachment; filename="fiches-{export_id}.{fmt}"'
            ),
            **LINK_HEADERS,
        },
    )
