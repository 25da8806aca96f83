"""A provider's own fiche over HTTP: own fields, publishing, stopping at a practice, map status.

Only the provider themself (their token's professional id is the fiche's) or the editorial
team may write; the authentic-source fields are refused with how to report an error.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ConfigDict

from fiches.domain.provider_own import AUTHENTIC_FIELDS, ProviderOwnData, source_error_hint
from fiches.entrypoints.http_practices import Changed, Publish
from fiches.entrypoints.http_support import CallerDependency, answer, validated
from fiches.handlers.providers import ProviderCommands
from servicekit.auth import Caller
from servicekit.inputs import VersionNumber


class ProviderOwnEdit(ProviderOwnData):
    """The provider's own fields; authentic-source fields are named to be refused clearly."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)


def provider_router(commands: ProviderCommands, caller: CallerDependency) -> APIRouter:
    router = APIRouter(prefix="/api/fiches", tags=["provider fiches"])
    Who = Annotated[Caller, Depends(caller)]

    @router.get("/me/map-status", summary="Am I on the map? (professionals)")
    async def map_status(
        who: Who,
        practice: Annotated[
            list[str] | None,
            Query(description="Names of practices where you work, to check each one."),
        ] = None,
    ) -> dict[str, Any]:
        return await answer(commands.map_status(who, practice or []))

    @router.get("/providers/{fiche_id}/edit", summary="Edit version (the provider, team)")
    async def edit_view(fiche_id: str, who: Who) -> dict[str, Any]:
        return await answer(commands.edit_view(who, fiche_id))

    @router.put("/providers/{fiche_id}/edit", summary="Save own fields (the provider, team)")
    async def save(
        fiche_id: str, body: ProviderOwnEdit, who: Who, publish: Publish = False
    ) -> Changed:
        extra = body.model_extra or {}
        if extra:
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", name),
                        "msg": source_error_hint(fiche_id)
                        if name in AUTHENTIC_FIELDS
                        else f"unknown field; the fields you can edit are "
                        f"{', '.join(ProviderOwnData.model_fields)}",
                        "type": "read_only" if name in AUTHENTIC_FIELDS else "extra_forbidden",
                    }
                    for name in sorted(extra)
                ]
            )
        data = validated(ProviderOwnData, body.model_dump(exclude=set(extra)), ("body",))
        return Changed(changed_fields=await answer(commands.save_own(who, fiche_id, data, publish)))

    @router.post("/providers/{fiche_id}/publish", summary="Publish (the provider, team)")
    async def publish(fiche_id: str, who: Who) -> dict[str, bool]:
        await answer(commands.publish(who, fiche_id))
        return {"published": True}

    @router.delete(
        "/providers/{fiche_id}/offers/{practice_id}/{profession}",
        status_code=204,
        summary="Stop at a practice: remove your offer there (the provider, team)",
    )
    async def stop_at_practice(
        fiche_id: str,
        practice_id: str,
        profession: str,
        who: Who,
        confirm: Annotated[bool, Query(description="Confirm the removal.")] = False,
        publish: Publish = False,
    ) -> None:
        await answer(
            commands.stop_at_practice(
                who, fiche_id, practice_id, profession, confirm=confirm, publish=publish
            )
        )

    @router.get("/providers/{fiche_id}/history", summary="Every version (the provider, team)")
    async def history(fiche_id: str, who: Who) -> list[dict[str, Any]]:
        return await answer(commands.history(who, fiche_id))

    @router.post(
        "/providers/{fiche_id}/history/{version}/restore",
        summary="Put an earlier version back into the edit version (team)",
    )
    async def restore(fiche_id: str, version: VersionNumber, who: Who) -> Changed:
        return Changed(changed_fields=await answer(commands.restore(who, fiche_id, version)))

    return router
