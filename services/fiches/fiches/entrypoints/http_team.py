"""The editorial team's work queue: every open request, oldest first."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from contracts.events.fiches import RequestKind
from fiches.config import FichesSettings
from fiches.entrypoints.http_support import CallerDependency, answer
from fiches.handlers.requests import RequestCommands
from servicekit.auth import Caller
from servicekit.inputs import Limit, Offset


def team_router(
    commands: RequestCommands, caller: CallerDependency, settings: FichesSettings
) -> APIRouter:
    router = APIRouter(prefix="/api/fiches/team", tags=["editorial team"])
    Who = Annotated[Caller, Depends(caller)]

    @router.get("/requests", summary="Work queue: requests of every kind, oldest first (team)")
    async def work_queue(
        who: Who,
        kind: Annotated[RequestKind | None, Query(description="Only this kind.")] = None,
        status: Annotated[
            Literal["open", "approved", "declined", "all"],
            Query(description="Only this status (default: open); `all` for every status."),
        ] = "open",
        fiche_id: Annotated[str | None, Query(description="Only this fiche.")] = None,
        limit: Annotated[Limit, Query()] = 50,
        offset: Annotated[Offset, Query()] = 0,
    ) -> dict[str, Any]:
        return await answer(
            commands.work_queue(
                who,
                kind=kind,
                status=None if status == "all" else status,
                fiche_id=fiche_id,
                limit=min(limit, settings.work_queue_page_size_max),
                offset=offset,
            )
        )

    return router
