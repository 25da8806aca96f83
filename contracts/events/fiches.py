"""Events fiches publishes about provider fiches (public: what the directory shows)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import EVENT_TYPE_PREFIX, Event
from contracts.events.registry import Convention, Diploma

PROVIDERS_TOPIC = "fiches.providers.v1"


class DepublicationReason(StrEnum):
    """Why a provider fiche left the public directory."""

    RIZIV_STOPPED = "riziv_stopped"
    VISA_INACTIVE = "visa_inactive"
    PRACTICE_BAN = "practice_ban"
    DECEASED = "deceased"
    NO_LONGER_IN_SOURCE = "no_longer_in_source"
    REMOVAL_REQUEST = "removal_request"


class PublicProfession(BaseModel):
    """A profession as the public directory shows it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    profession: str = Field(description="Profession code, e.g. `physician`.")
    riziv_number: str | None = Field(default=None, description="RIZIV/INAMI number, if any.")
    qualification_code: str | None = Field(default=None, description="Qualification code.")
    convention: Convention | None = Field(default=None, description="Convention status.")
    diplomas: tuple[Diploma, ...] = Field(default=(), description="Registered diplomas.")


class _ProviderFicheFacts(Event):
    fiche_id: str = Field(description="Id of the provider fiche.")
    professional_id: str = Field(description="The registry's opaque id of the person.")
    official_last_name: str = Field(description="Official last name (authentic source).")
    official_first_name: str = Field(description="Official first name (authentic source).")
    professions: tuple[PublicProfession, ...] = Field(
        description="Professions that may be practised, as published."
    )
    revision: int = Field(description="Published revision, +1 on every publication.")
    occurred_at: datetime = Field(description="When fiches made the change.")

    def partition_key(self) -> str:
        return self.fiche_id


class ProviderFichePublished(_ProviderFicheFacts):
    """A provider fiche became visible in the public directory."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.ProviderFichePublished"
    topic: ClassVar[str] = PROVIDERS_TOPIC


class ProviderFicheUpdated(_ProviderFicheFacts):
    """The published version of a provider fiche changed."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.ProviderFicheUpdated"
    topic: ClassVar[str] = PROVIDERS_TOPIC


class ProviderFicheDepublished(Event):
    """A provider fiche left the public directory."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.ProviderFicheDepublished"
    topic: ClassVar[str] = PROVIDERS_TOPIC

    fiche_id: str = Field(description="Id of the provider fiche.")
    professional_id: str = Field(description="The registry's opaque id of the person.")
    reason: DepublicationReason = Field(description="Why it was depublished.")
    occurred_at: datetime = Field(description="When fiches depublished it.")

    def partition_key(self) -> str:
        return self.fiche_id
