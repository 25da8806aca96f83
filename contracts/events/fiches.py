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
    preferred_name: str | None = Field(
        default=None,
        description="The name the provider goes by (e.g. Bert for Albert), as they published "
        "it; absent when they gave none.",
    )
    languages: tuple[str, ...] = Field(
        default=(), description="Languages the provider speaks (ISO 639-1 codes), as published."
    )
    description: str | None = Field(
        default=None, description="The provider's own description of their work, as published."
    )

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


# --- Practices, offers, managers, requests, exports ------------------------------------

PRACTICES_TOPIC = "fiches.practices.v1"
OFFERS_TOPIC = "fiches.offers.v1"
MANAGERS_TOPIC = "fiches.managers.v1"
REQUESTS_TOPIC = "fiches.requests.v1"
EXPORTS_TOPIC = "fiches.exports.v1"


class PublicPracticeName(BaseModel):
    """One organisation name of a practice."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str = Field(description="The name.")
    preferred: bool = Field(description="The name shown first.")


class PublicAddress(BaseModel):
    """One address of a practice (Belgian)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    street: str = Field(description="Street.")
    number: str = Field(description="House number.")
    box: str | None = Field(default=None, description="Box (bus), if any.")
    postcode: str = Field(description="Belgian postcode, 1000-9999.")
    municipality: str = Field(description="Municipality.")
    preferred: bool = Field(description="The address shown first.")


class PublicPhoneNumber(BaseModel):
    """One phone number of a practice, in E.164 form (+32...)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    number: str = Field(description="E.164 phone number.")
    preferred: bool = Field(description="The number shown first.")


class PublicWebsite(BaseModel):
    """One website of a practice."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    url: str = Field(description="http(s) address.")
    preferred: bool = Field(description="The website shown first.")


class PublicContactPerson(BaseModel):
    """A contact person of a practice: name and role only (no personal contact data)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str = Field(description="Name of the contact person.")
    role: str | None = Field(default=None, description="Their role, e.g. secretary.")


class PublicOpeningHours(BaseModel):
    """One opening period on one weekday."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    day: str = Field(description="`monday` ... `sunday`.")
    opens: str = Field(description="HH:MM, local time.")
    closes: str = Field(description="HH:MM, local time.")
    note: str | None = Field(default=None, description="E.g. `by appointment only`.")


class _PracticeFicheFacts(Event):
    practice_id: str = Field(description="Id of the practice fiche.")
    name: str = Field(description="Preferred organisation name.")
    names: tuple[PublicPracticeName, ...] = Field(description="All organisation names.")
    addresses: tuple[PublicAddress, ...] = Field(default=(), description="Addresses.")
    phone_numbers: tuple[PublicPhoneNumber, ...] = Field(default=(), description="Phones.")
    websites: tuple[PublicWebsite, ...] = Field(default=(), description="Websites.")
    target_groups: tuple[str, ...] = Field(default=(), description="Target groups (doelgroep).")
    age_categories: tuple[str, ...] = Field(
        default=(), description="Priority age categories: baby, child, adolescent, adult, senior."
    )
    wijken: tuple[str, ...] = Field(default=(), description="Neighbourhoods served (wijken).")
    contact_persons: tuple[PublicContactPerson, ...] = Field(
        default=(), description="Contact persons (name and role)."
    )
    opening_hours: tuple[PublicOpeningHours, ...] = Field(default=(), description="Hours.")
    extra_offer: tuple[str, ...] = Field(
        default=(),
        description="Offer that is not a RIZIV profession (osteopath, BOV-coach, ...).",
    )
    revision: int = Field(description="Published revision, +1 on every publication.")
    occurred_at: datetime = Field(description="When the version was published.")

    def partition_key(self) -> str:
        return self.practice_id


class PracticeFichePublished(_PracticeFicheFacts):
    """A practice fiche became visible in the public directory (its published version).

    The practice's e-mail addresses are deliberately absent: they are shown in the public
    read API as contact data, but never travel on a topic that agencies mirror.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.PracticeFichePublished"
    topic: ClassVar[str] = PRACTICES_TOPIC


class PracticeFicheUpdated(_PracticeFicheFacts):
    """A new version of a practice fiche was published."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.PracticeFicheUpdated"
    topic: ClassVar[str] = PRACTICES_TOPIC


class PracticeDepublicationReason(StrEnum):
    """Why a practice fiche left the public directory (never automatic)."""

    REMOVAL_REQUEST = "removal_request"
    """The editorial team approved a request to remove it."""


class PracticeFicheDepublished(Event):
    """A practice fiche left the public directory."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.PracticeFicheDepublished"
    topic: ClassVar[str] = PRACTICES_TOPIC

    practice_id: str = Field(description="Id of the practice fiche.")
    reason: PracticeDepublicationReason = Field(description="Why it was depublished.")
    occurred_at: datetime = Field(description="When it was depublished.")

    def partition_key(self) -> str:
        return self.practice_id


class OfferLinked(Event):
    """A provider's offer became part of a practice's published offer block."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.OfferLinked"
    topic: ClassVar[str] = OFFERS_TOPIC

    practice_id: str = Field(description="Id of the practice fiche.")
    provider_fiche_id: str = Field(description="Id of the provider fiche.")
    professional_id: str = Field(description="The registry's opaque id of the provider.")
    profession: str = Field(description="Profession code of the offer block.")
    occurred_at: datetime = Field(description="When the practice's offer block was published.")

    def partition_key(self) -> str:
        return self.practice_id


class OfferUnlinkReason(StrEnum):
    """Why an offer left a practice's offer block."""

    STOPPED = "stopped"
    """The provider stopped at the practice, or a manager removed the offer."""
    PRACTICE_REMOVED = "practice_removed"
    PROVIDER_REMOVED = "provider_removed"


class OfferUnlinked(Event):
    """A provider's offer left a practice's published offer block."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.OfferUnlinked"
    topic: ClassVar[str] = OFFERS_TOPIC

    practice_id: str = Field(description="Id of the practice fiche.")
    provider_fiche_id: str = Field(description="Id of the provider fiche.")
    professional_id: str = Field(description="The registry's opaque id of the provider.")
    profession: str = Field(description="Profession code of the offer block.")
    reason: OfferUnlinkReason = Field(description="Why the offer left.")
    occurred_at: datetime = Field(description="When the change was published.")

    def partition_key(self) -> str:
        return self.practice_id


class PracticeManagersChanged(Event):
    """Who manages a practice fiche changed (creation included).

    Internal: invitations keeps its own view of managers from it, so it never calls fiches.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.PracticeManagersChanged"
    topic: ClassVar[str] = MANAGERS_TOPIC

    practice_id: str = Field(description="Id of the practice fiche.")
    practice_name: str = Field(description="Preferred organisation name (edit version).")
    manager_user_ids: tuple[str, ...] = Field(description="identity user ids of all managers.")
    linked_professional_ids: tuple[str, ...] = Field(
        default=(), description="Providers whose offer is linked to the practice (edit version)."
    )
    occurred_at: datetime = Field(description="When the change was made.")

    def partition_key(self) -> str:
        return self.practice_id


class RequestKind(StrEnum):
    """Requests users put to managers or the team."""

    LINK = "link"
    """Link my offer to this practice (managers or team decide)."""
    RIGHTS = "rights"
    """Give me management rights on this fiche (team decides)."""
    PROPOSAL = "proposal"
    """A proposed change to a fiche I do not manage (managers or team decide)."""
    REMOVAL = "removal"
    """Remove this provider or practice fiche from the map (team decides)."""
    SOURCE_ERROR = "source_error"
    """The authentic source is wrong about me (team follows up with the source)."""


class RequestDecision(StrEnum):
    """What was decided."""

    APPROVED = "approved"
    DECLINED = "declined"


class RequestSubmitted(Event):
    """A user opened a request."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.RequestSubmitted"
    topic: ClassVar[str] = REQUESTS_TOPIC

    request_id: str = Field(description="Id of the request.")
    kind: RequestKind = Field(description="What is asked.")
    fiche_type: str = Field(description="`provider` or `practice`.")
    fiche_id: str = Field(description="The fiche concerned.")
    fiche_name: str = Field(description="Name of the fiche, for messages.")
    requester_user_id: str = Field(description="identity user id of the requester.")
    occurred_at: datetime = Field(description="When the request was made.")

    def partition_key(self) -> str:
        return self.request_id


class RequestDecided(Event):
    """Managers or the team decided a request; notifications tells the requester."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.RequestDecided"
    topic: ClassVar[str] = REQUESTS_TOPIC

    request_id: str = Field(description="Id of the request.")
    kind: RequestKind = Field(description="What was asked.")
    fiche_type: str = Field(description="`provider` or `practice`.")
    fiche_id: str = Field(description="The fiche concerned.")
    fiche_name: str = Field(description="Name of the fiche, for messages.")
    requester_user_id: str = Field(description="identity user id of the requester.")
    decision: RequestDecision = Field(description="Approved or declined.")
    comment: str | None = Field(default=None, description="Why, in the decider's words.")
    occurred_at: datetime = Field(description="When it was decided.")

    def partition_key(self) -> str:
        return self.request_id


class ExportReady(Event):
    """An export a user asked for is ready; notifications mails the signed download link.

    Restricted: the link carries a signed token.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "fiches.ExportReady"
    topic: ClassVar[str] = EXPORTS_TOPIC

    export_id: str = Field(description="Id of the export.")
    user_id: str = Field(description="identity user id of the requester.")
    formats: tuple[str, ...] = Field(description="`csv`, `json`.")
    download_url: str = Field(description="Signed, expiring download link.")
    expires_at: datetime = Field(description="When the link stops working.")
    occurred_at: datetime = Field(description="When the export was produced.")

    def partition_key(self) -> str:
        return self.export_id
