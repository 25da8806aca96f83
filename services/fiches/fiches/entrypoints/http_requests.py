"""Requests over HTTP: link, rights, proposals, removal, source errors, and decisions."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from contracts.events.fiches import RequestDecision
from fiches.domain.practice_fiche import PracticeChanges
from fiches.entrypoints.http_support import CallerDependency, answer, validated
from fiches.handlers.requests import RequestCommands
from servicekit.auth import Caller
from servicekit.inputs import RequestBody
from servicekit.plain_text import MultiLineText


class LinkRequest(RequestBody):
    professions: list[str] = Field(description="Your profession codes to link.")


class RightsRequest(RequestBody):
    motivation: MultiLineText | None = Field(default=None, max_length=2000)


class Proposal(RequestBody):
    changes: dict[str, Any] = Field(
        description="The fields you propose to change, with their new value (as on a save)."
    )


class RemovalRequest(RequestBody):
    fiche_type: Literal["provider", "practice"]
    fiche_id: str = Field(min_length=1, max_length=36)
    reason: MultiLineText = Field(min_length=1, max_length=2000, description="Why it should go.")


class SourceErrorReport(RequestBody):
    description: MultiLineText = Field(
        min_length=1, max_length=2000, description="What the authentic source has wrong."
    )


class Decision(RequestBody):
    decision: RequestDecision
    comment: MultiLineText | None = Field(default=None, max_length=2000)


class Submitted(BaseModel):
    request_id: str


def requests_router(commands: RequestCommands, caller: CallerDependency) -> APIRouter:
    router = APIRouter(prefix="/api/fiches", tags=["requests"])
    Who = Annotated[Caller, Depends(caller)]

    @router.post(
        "/practices/{practice_id}/link-requests",
        status_code=201,
        summary="Ask to link your offer (professionals); managers or team decide",
    )
    async def ask_link(practice_id: str, body: LinkRequest, who: Who) -> Submitted:
        return Submitted(
            request_id=await answer(commands.ask_link(who, practice_id, body.professions))
        )

    @router.post(
        "/practices/{practice_id}/rights-requests",
        status_code=201,
        summary="Ask for management rights (anyone logged in); the team decides",
    )
    async def ask_rights(practice_id: str, body: RightsRequest, who: Who) -> Submitted:
        return Submitted(
            request_id=await answer(commands.ask_rights(who, practice_id, body.motivation))
        )

    @router.post(
        "/practices/{practice_id}/proposals",
        status_code=201,
        summary="Propose a change (anyone logged in); managers or team decide",
    )
    async def propose(practice_id: str, body: Proposal, who: Who) -> Submitted:
        changes = validated(PracticeChanges, body.changes, ("body", "changes")).model_dump(
            mode="json", exclude_unset=True
        )
        return Submitted(request_id=await answer(commands.propose(who, practice_id, changes)))

    @router.get(
        "/practices/{practice_id}/requests",
        summary="Open link requests and proposals on a practice (managers, team)",
    )
    async def of_practice(practice_id: str, who: Who) -> list[dict[str, Any]]:
        return await answer(commands.of_practice(who, practice_id))

    @router.post(
        "/removal-requests",
        status_code=201,
        summary="Ask the team to remove a provider or practice fiche (anyone logged in)",
    )
    async def ask_removal(body: RemovalRequest, who: Who) -> Submitted:
        return Submitted(
            request_id=await answer(
                commands.ask_removal(who, body.fiche_type, body.fiche_id, body.reason)
            )
        )

    @router.post(
        "/providers/{fiche_id}/source-errors",
        status_code=201,
        summary="Report an error in the authentic source (the provider); the team follows up",
    )
    async def source_error(fiche_id: str, body: SourceErrorReport, who: Who) -> Submitted:
        return Submitted(
            request_id=await answer(commands.report_source_error(who, fiche_id, body.description))
        )

    @router.get("/me/requests", summary="Your requests and their outcome")
    async def mine(who: Who) -> list[dict[str, Any]]:
        return await answer(commands.mine(who))

    @router.post(
        "/requests/{request_id}/decision",
        summary="Approve or decline (link, proposal: managers or team; others: team)",
    )
    async def decide(request_id: str, body: Decision, who: Who) -> dict[str, Any]:
        return await answer(commands.decide(who, request_id, body.decision, body.comment))

    return router
