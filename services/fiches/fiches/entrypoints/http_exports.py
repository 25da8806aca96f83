"""Exports over HTTP: ask for an export of your fiches, see its state, download it.

Asking needs a logged-in user. Downloading needs only the signed link from the e-mail
(it is opened from a mail client, often without a session): the signature is the
permission, and it expires.
"""

import math
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field

from fiches.entrypoints.http_support import CallerDependency
from fiches.handlers.exports import ExportNotFound, ExportWorker, LinkRefused, TooManyExports
from servicekit.auth import Caller
from servicekit.inputs import RequestBody

Format = Literal["csv", "json"]
_MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _both() -> list[Format]:
    return ["csv", "json"]


class ExportRequest(RequestBody):
    formats: list[Format] = Field(
        default_factory=_both,
        min_length=1,
        max_length=2,
        description="Files to produce: `csv`, `json` or both.",
    )


class ExportState(BaseModel):
    export_id: str
    status: str = Field(description="`pending`, `ready` (the link was e-mailed), `expired`.")
    formats: list[str] | None = None
    requested_at: datetime
    ready_at: datetime | None = None
    expires_at: datetime | None = None
    fiche_count: int | None = Field(default=None, description="Fiches in the export.")


class MyExports(BaseModel):
    exports: list[ExportState] = Field(description="Newest first; links go by e-mail only.")


def exports_router(exports: ExportWorker, caller: CallerDependency) -> APIRouter:
    router = APIRouter(prefix="/api/fiches/exports", tags=["exports"])
    Who = Annotated[Caller, Depends(caller)]

    @router.post(
        "",
        status_code=202,
        summary="Export the fiches you manage (CSV, JSON); the link is e-mailed",
    )
    async def request_export(who: Who, body: ExportRequest | None = None) -> ExportState:
        formats = (body or ExportRequest()).formats
        try:
            state = await exports.request(
                user_id=who.user_id,
                professional_id=who.professional_id if who.is_professional else None,
                formats=formats,
            )
        except TooManyExports as error:
            wait_s = (error.retry_at - datetime.now(UTC)).total_seconds()
            raise HTTPException(
                429, str(error), headers={"Retry-After": str(max(1, math.ceil(wait_s)))}
            ) from error
        return ExportState(**state, formats=list(dict.fromkeys(formats)))

    @router.get("", summary="Your exports, newest first (at most 20)")
    async def my_exports(who: Who) -> MyExports:
        return MyExports(
            exports=[ExportState(**state) for state in await exports.mine(user_id=who.user_id)]
        )

    @router.get("/{export_id}", summary="The state of one of your exports")
    async def export_state(export_id: str, who: Who) -> ExportState:
        try:
            return ExportState(**await exports.status(user_id=who.user_id, export_id=export_id))
        except ExportNotFound as error:
            raise HTTPException(404, f"you have no export with id {export_id}") from error

    @router.get(
        "/{export_id}/download",
        summary="Download an export through the signed link from the e-mail",
        response_class=Response,
    )
    async def download(
        export_id: str,
        expires: Annotated[int, Query(description="Expiry (Unix time), from the link.")],
        signature: Annotated[str, Query(max_length=100, description="From the link.")],
        format: Annotated[
            Literal["csv", "json"] | None,
            Query(description="Which file; default the first of the export."),
        ] = None,
    ) -> Response:
        try:
            chosen, content = await exports.open_link(export_id, expires, signature, format)
        except LinkRefused as error:
            raise HTTPException(error.status, error.message) from error
        return Response(
            content=content.encode(),
            media_type=_MEDIA[chosen],
            headers={
                "Content-Disposition": f'attachment; filename="fiches-{export_id}.{chosen}"',
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
            },
        )

    return router
