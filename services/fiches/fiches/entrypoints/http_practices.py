"""Practice fiches over HTTP: the public read of published practices, and managers' writes.

Writes need a logged-in (activated) user; each checks the caller's rights on the fiche:
its managers or the editorial team, nobody else (deny by default).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, model_validator

from fiches.domain.practice_fiche import PracticeData
from fiches.entrypoints.http_support import CallerDependency, answer
from fiches.handlers.managers import Grantee, ManagerCommands
from fiches.handlers.practices import PracticeCommands
from servicekit.auth import Caller
from servicekit.inputs import RequestBody, VersionNumber

Publish = Annotated[
    bool, Query(description="Also publish (`Opslaan en publiceren`); default: save only.")
]


class PracticeCreate(PracticeData):
    """A new practice fiche; a professional may tick their own offer(s) on it."""

    offers: list[str] = Field(
        default_factory=list,
        description="Your own profession codes to link (only professions you may practise).",
    )


class Professions(RequestBody):
    professions: list[str] = Field(description="Profession codes, e.g. physician.")


class ManagerGrant(RequestBody):
    """Whom to give management rights: exactly one of the e-mail address the person uses
    on the platform, or their name (first name and surname). Never an internal id."""

    email: str | None = Field(
        default=None,
        max_length=320,
        description="The e-mail address the person activated their profile with.",
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=400,
        description="First name and surname (case and accents do not matter). A name "
        "several users share is refused (409) with how to tell them apart.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> "ManagerGrant":
        if (self.email is None) == (self.name is None):
            raise ValueError("give exactly one of `email` or `name` of the person")
        return self


class Manager(BaseModel):
    user_id: str = Field(description="Use it to withdraw the rights again.")
    name: str | None = Field(description="The person's name; null if fiches does not know it.")


class Managers(BaseModel):
    """Who manages the practice (names, never e-mail addresses)."""

    managers: list[Manager]
    manager_user_ids: list[str]


def _managers(found: list[dict[str, Any]]) -> Managers:
    return Managers(
        managers=[Manager(**manager) for manager in found],
        manager_user_ids=[manager["user_id"] for manager in found],
    )


class Created(BaseModel):
    practice_id: str
    published: bool


class Changed(BaseModel):
    changed_fields: list[str]


class OfferProvider(BaseModel):
    provider_fiche_id: str
    professional_id: str
    name: str = Field(description="The name the provider goes by, else the official name.")


class OfferBlock(BaseModel):
    profession: str
    providers: list[OfferProvider]


class PublicPractice(BaseModel):
    """A published practice fiche, as the public sees it.

    Its e-mail addresses are part of the practice's published contact data and are shown
    here; they are never put on an event topic.
    """

    practice_id: str
    name: str
    revision: int
    data: dict[str, Any]
    offer_blocks: list[OfferBlock]


def my_practices_router(commands: PracticeCommands, caller: CallerDependency) -> APIRouter:
    """What the logged-in user manages (the portal's "Mijn fiches")."""
    router = APIRouter(prefix="/api/fiches/me", tags=["practice fiches"])
    Who = Annotated[Caller, Depends(caller)]

    @router.get(
        "/managed-practices",
        summary="The practice fiches you manage (any logged-in user), by name",
    )
    async def managed(who: Who) -> dict[str, list[dict[str, Any]]]:
        return {"practices": await answer(commands.managed_by(who))}

    return router


def practices_router(
    commands: PracticeCommands,
    caller: CallerDependency,
    manager_commands: ManagerCommands,
) -> APIRouter:
    router = APIRouter(prefix="/api/fiches/practices", tags=["practice fiches"])
    Who = Annotated[Caller, Depends(caller)]

    @router.get("/{practice_id}", summary="A published practice fiche with its offer blocks")
    async def get_practice(practice_id: str) -> PublicPractice:
        return PublicPractice(**await answer(commands.public_view(practice_id)))

    @router.post("", status_code=201, summary="Create a practice fiche (any logged-in user)")
    async def create(body: PracticeCreate, who: Who, publish: Publish = False) -> Created:
        data = PracticeData.model_validate(body.model_dump(exclude={"offers"}))
        practice_id = await answer(commands.create(who, data, body.offers, publish))
        return Created(practice_id=practice_id, published=publish)

    @router.get("/{practice_id}/edit", summary="The edit version (managers, team)")
    async def edit_view(practice_id: str, who: Who) -> dict[str, Any]:
        return await answer(commands.edit_view(who, practice_id))

    @router.put("/{practice_id}/edit", summary="Save the edit version (managers, team)")
    async def save(
        practice_id: str, body: PracticeData, who: Who, publish: Publish = False
    ) -> Changed:
        changed = await answer(commands.save(who, practice_id, body, publish))
        return Changed(changed_fields=changed)

    @router.post("/{practice_id}/publish", summary="Publish the edit version (managers, team)")
    async def publish_practice(practice_id: str, who: Who) -> Changed:
        return Changed(changed_fields=await answer(commands.publish(who, practice_id)))

    @router.post("/{practice_id}/offers", summary="Link your own offer (managers)")
    async def add_offers(
        practice_id: str, body: Professions, who: Who, publish: Publish = False
    ) -> dict[str, list[str]]:
        linked = await answer(commands.add_own_offers(who, practice_id, body.professions, publish))
        return {"linked": linked}

    @router.delete(
        "/{practice_id}/offers/{professional_id}/{profession}",
        status_code=204,
        summary="Take an offer off the offer block (managers, team)",
    )
    async def remove_offer(
        practice_id: str, professional_id: str, profession: str, who: Who, publish: Publish = False
    ) -> None:
        await answer(commands.remove_offer(who, practice_id, professional_id, profession, publish))

    @router.get("/{practice_id}/managers", summary="Who manages it (managers, team)")
    async def managers(practice_id: str, who: Who) -> Managers:
        return _managers(await answer(manager_commands.managers(who, practice_id)))

    @router.post(
        "/{practice_id}/managers",
        summary="Grant management rights to a known user, by e-mail address or name "
        "(managers, team)",
    )
    async def grant(practice_id: str, body: ManagerGrant, who: Who) -> Managers:
        grantee = Grantee(email=body.email, name=body.name)
        return _managers(await answer(manager_commands.grant(who, practice_id, grantee)))

    @router.delete(
        "/{practice_id}/managers/{user_id}",
        summary="Withdraw management rights (managers; the last one only by the team)",
    )
    async def withdraw(practice_id: str, user_id: str, who: Who) -> Managers:
        return _managers(await answer(manager_commands.withdraw(who, practice_id, user_id)))

    @router.get("/{practice_id}/history", summary="Every version: who, when, what (managers, team)")
    async def history(practice_id: str, who: Who) -> list[dict[str, Any]]:
        return await answer(commands.history(who, practice_id))

    @router.post(
        "/{practice_id}/history/{version}/restore",
        summary="Put an earlier version back into the edit version (team)",
    )
    async def restore(practice_id: str, version: VersionNumber, who: Who) -> Changed:
        return Changed(changed_fields=await answer(commands.restore(who, practice_id, version)))

    return router
