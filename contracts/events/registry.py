"""Events registry-sync publishes about healthcare professionals in the authentic source.

`registry.professionals.v1` is public: it carries the facts the public directory shows
(official names, professions, RIZIV numbers, statuses) and never the national register
number, birth date or gender. The pairing between a person's keyed national-register
hash and their `professional_id` goes only on the restricted `registry.identities.v1`.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import EVENT_TYPE_PREFIX, Event

PROFESSIONALS_TOPIC = "registry.professionals.v1"
IDENTITIES_TOPIC = "registry.identities.v1"


class RegistrationStatus(StrEnum):
    """Status of a visa or a RIZIV number in the authentic source."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class Convention(StrEnum):
    """Convention status (`conventiestatus`) towards the RIZIV tariff agreements."""

    CONVENTIONED = "conventioned"
    PARTIALLY_CONVENTIONED = "partially_conventioned"
    NOT_CONVENTIONED = "not_conventioned"


class StatusChangeReason(StrEnum):
    """Why a professional's right to practise changed."""

    RIZIV_STOPPED = "riziv_stopped"
    VISA_INACTIVE = "visa_inactive"
    PRACTICE_BAN = "practice_ban"
    DECEASED = "deceased"
    REACTIVATED = "reactivated"


#: The reasons that end a right to practise (DOMAIN.md flow 5).
STOP_REASONS = frozenset(
    {
        StatusChangeReason.RIZIV_STOPPED,
        StatusChangeReason.VISA_INACTIVE,
        StatusChangeReason.PRACTICE_BAN,
        StatusChangeReason.DECEASED,
    }
)


class Diploma(BaseModel):
    """A diploma registered for a profession."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    title: str = Field(description="Diploma title as the source spells it.")
    date: dt.date | None = Field(default=None, description="Date the diploma was obtained.")


class ProfessionRecord(BaseModel):
    """One profession a person is registered for, as the authentic source states it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    profession: str = Field(description="Profession code, e.g. `physician` or `nurse`.")
    visa_status: RegistrationStatus = Field(description="Status of the visa to practise.")
    riziv_number: str | None = Field(
        default=None,
        description="11-digit RIZIV/INAMI number; absent for professions without one.",
    )
    riziv_status: RegistrationStatus | None = Field(
        default=None, description="Status of the RIZIV number; absent when there is none."
    )
    qualification_code: str | None = Field(
        default=None, description="Three-digit RIZIV qualification/competence code."
    )
    convention: Convention | None = Field(
        default=None, description="Convention status; absent when not applicable."
    )
    diplomas: tuple[Diploma, ...] = Field(default=(), description="Registered diplomas.")

    def may_practise(self) -> bool:
        """Active visa, and an active RIZIV number where the profession has one."""
        if self.visa_status is not RegistrationStatus.ACTIVE:
            return False
        return self.riziv_status in (None, RegistrationStatus.ACTIVE)


class _ProfessionalFacts(Event):
    professional_id: str = Field(description="Stable opaque id of the person (not the NRN).")
    last_name: str = Field(description="Official last name.")
    first_name: str = Field(description="Official first name.")
    language: str | None = Field(default=None, description="Preferred language (nl, fr, de, en).")
    practice_ban: bool = Field(description="A practice ban (`praktijkverbod`) is in force.")
    deceased: bool = Field(description="The person was reported deceased.")
    professions: tuple[ProfessionRecord, ...] = Field(description="Registered professions.")
    may_practise: bool = Field(
        description="At least one profession may be practised, and no ban, not deceased."
    )
    source_version: datetime = Field(
        description="When the source last changed this person; older versions never win."
    )

    def partition_key(self) -> str:
        return self.professional_id


class ProfessionalRegistered(_ProfessionalFacts):
    """A person appeared in the authentic source for the first time."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "registry.ProfessionalRegistered"
    topic: ClassVar[str] = PROFESSIONALS_TOPIC


class ProfessionalUpdated(_ProfessionalFacts):
    """Authentic-source facts of a known person changed (names, professions, numbers…).

    Carries the complete current facts, so a consumer never has to merge.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "registry.ProfessionalUpdated"
    topic: ClassVar[str] = PROFESSIONALS_TOPIC


class ProfessionalStatusChanged(Event):
    """A person's right to practise changed, for the professions named."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "registry.ProfessionalStatusChanged"
    topic: ClassVar[str] = PROFESSIONALS_TOPIC

    professional_id: str = Field(description="Stable opaque id of the person.")
    reason: StatusChangeReason = Field(description="What changed in the source.")
    professions: tuple[str, ...] = Field(
        description=(
            "Profession codes concerned. All the person's professions for a practice ban "
            "or death; the profession(s) whose visa or RIZIV number changed otherwise."
        )
    )
    active_professions: tuple[str, ...] = Field(
        description="Profession codes that may be practised after this change."
    )
    may_practise: bool = Field(
        description="After this change: at least one active profession, no ban, not deceased."
    )
    source_version: datetime = Field(description="Source version that carried the change.")

    def partition_key(self) -> str:
        return self.professional_id


class ProfessionalRemoved(Event):
    """The person is no longer in the authentic source (missing from a full snapshot, or
    reported removed by the delta feed). They may not practise until they reappear."""

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "registry.ProfessionalRemoved"
    topic: ClassVar[str] = PROFESSIONALS_TOPIC

    professional_id: str = Field(description="Stable opaque id of the person.")
    source_version: datetime = Field(
        description="Version of the removal (the feed's, or the snapshot run's start)."
    )

    def partition_key(self) -> str:
        return self.professional_id


class ProfessionalIdentified(Event):
    """Pairs a person's keyed national-register hash with their `professional_id`.

    Restricted: only identity reads it, to recognise a professional at login.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "registry.ProfessionalIdentified"
    topic: ClassVar[str] = IDENTITIES_TOPIC

    professional_id: str = Field(description="Stable opaque id of the person.")
    nrn_hash: str = Field(
        description="HMAC-SHA256 (hex) of the national register number with the shared key."
    )

    def partition_key(self) -> str:
        return self.professional_id
