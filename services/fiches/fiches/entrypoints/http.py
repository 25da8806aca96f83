"""fiches' public HTTP API: published provider fiches (nothing else is ever shown)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from contracts.events.fiches import PublicProfession
from contracts.events.registry import ProfessionRecord
from fiches.adapters.provider_queries import ProviderQueries
from fiches.config import FichesSettings
from servicekit.inputs import Limit, Offset
from servicekit.runtime import ServiceRuntime


class ProviderFicheRead(BaseModel):
    """A published provider fiche as the public sees it."""

    fiche_id: str
    professional_id: str
    official_last_name: str = Field(description="From the authentic source (read-only).")
    official_first_name: str = Field(description="From the authentic source (read-only).")
    language: str | None
    professions: list[PublicProfession]
    revision: int
    preferred_name: str | None = Field(
        default=None, description="The name the provider goes by (their own, published)."
    )
    languages: list[str] = Field(default_factory=list, description="Languages spoken.")
    description: str | None = None
    phone_numbers: list[dict[str, Any]] = Field(
        default_factory=list, description="Published contact phone numbers."
    )
    email_addresses: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Published contact e-mail addresses (shown here, never on event topics).",
    )
    websites: list[dict[str, Any]] = Field(default_factory=list)


class ProviderFichePage(BaseModel):
    """One page of published provider fiches."""

    items: list[ProviderFicheRead]
    total: int
    limit: int
    offset: int


def _read_model(row: Any) -> ProviderFicheRead:
    own = getattr(row, "own_published", None) or {}
    professions = [ProfessionRecord.model_validate(p) for p in row.professions]
    return ProviderFicheRead(
        fiche_id=row.fiche_id,
        professional_id=row.professional_id,
        official_last_name=row.official_last_name,
        official_first_name=row.official_first_name,
        language=row.language,
        professions=[
            PublicProfession(**p.model_dump(include=set(PublicProfession.model_fields)))
            for p in professions
            if p.may_practise()
        ],
        revision=row.revision,
        preferred_name=own.get("preferred_name"),
        languages=own.get("languages", []),
        description=own.get("description"),
        phone_numbers=own.get("phone_numbers", []),
        email_addresses=own.get("email_addresses", []),
        websites=own.get("websites", []),
    )


def public_router(runtime: ServiceRuntime, settings: FichesSettings) -> APIRouter:
    """Public reads: only published fiches; anything else is 404."""
    router = APIRouter(prefix="/api/fiches", tags=["public: provider fiches"])

    @router.get("/providers/{fiche_id}", summary="A published provider fiche")
    async def get_provider(fiche_id: str) -> ProviderFicheRead:
        async with runtime.sessions() as session:
            row = await ProviderQueries(session).published(fiche_id)
        if row is None:
            raise HTTPException(
                404,
                f"no published provider fiche with id {fiche_id}; search published fiches at "
                "/api/fiches/providers",
            )
        return _read_model(row)

    @router.get("/providers", summary="Published provider fiches, filtered")
    async def list_providers(
        profession: Annotated[str | None, Query(description="Profession code, e.g. nurse")] = None,
        name: Annotated[str | None, Query(description="Part of the official name")] = None,
        professional_id: Annotated[str | None, Query(description="Registry id")] = None,
        limit: Annotated[Limit, Query()] = 50,
        offset: Annotated[Offset, Query()] = 0,
    ) -> ProviderFichePage:
        limit = min(limit, settings.public_page_size_max)
        async with runtime.sessions() as session:
            total, rows = await ProviderQueries(session).published_page(
                profession=profession,
                name=name,
                professional_id=professional_id,
                limit=limit,
                offset=offset,
            )
        items = [_read_model(row) for row in rows]
        return ProviderFichePage(items=items, total=total, limit=limit, offset=offset)

    return router
