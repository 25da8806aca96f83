"""One version of a practice fiche's data, and the public event of a published version.

`PracticeData` is what managers edit (the edit version and the published version have the
same shape); `public_event` is what agencies receive when a version is published:
everything but the practice's e-mail addresses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from contracts.events.fiches import (
    PracticeFichePublished,
    PracticeFicheUpdated,
    PublicAddress,
    PublicContactPerson,
    PublicOpeningHours,
    PublicPhoneNumber,
    PublicPracticeName,
    PublicWebsite,
)
from fiches.domain.contact_data import (
    Addresses,
    AgeCategory,
    ContactPerson,
    EmailAddresses,
    Names,
    OpeningHours,
    PhoneNumbers,
    ShortList,
    Websites,
    preferred,
)


class PracticeData(BaseModel):
    """Everything a manager edits on a practice fiche (one version of it)."""

    model_config = ConfigDict(extra="forbid")

    names: Names = Field(description="Organisation names; exactly one preferred.")
    addresses: Addresses = Field(default_factory=list, description="One preferred.")
    phone_numbers: PhoneNumbers = Field(default_factory=list, description="One preferred.")
    email_addresses: EmailAddresses = Field(
        default_factory=list,
        description="One preferred. Shown in the public read API, never on event topics.",
    )
    websites: Websites = Field(default_factory=list, description="One preferred.")
    target_groups: ShortList = Field(default_factory=list, description="Doelgroep.")
    age_categories: list[AgeCategory] = Field(
        default_factory=list, description="Priority age categories."
    )
    wijken: ShortList = Field(default_factory=list, description="Neighbourhoods served.")
    contact_persons: list[ContactPerson] = Field(default_factory=list, max_length=50)
    opening_hours: list[OpeningHours] = Field(default_factory=list, max_length=100)
    extra_offer: ShortList = Field(
        default_factory=list,
        description="Offer that is not a RIZIV profession (osteopath, BOV-coach, ...).",
    )


def _optional(field: FieldInfo) -> tuple[Any, Any]:
    """The same field, absent by default: its constraints apply when it is given."""
    annotation: Any = field.annotation
    if field.metadata:  # max_length and the like, which pydantic keeps beside the type
        annotation = Annotated[(annotation, *field.metadata)]
    return (annotation | None, Field(default=None, description=field.description))


#: A proposed change: any subset of PracticeData's fields, each validated as on a save
#: (derived from PracticeData, so a limit added there holds for proposals too).
_CHANGE_FIELDS: dict[str, Any] = {
    name: _optional(field) for name, field in PracticeData.model_fields.items()
}
PracticeChanges: type[BaseModel] = create_model(
    "PracticeChanges", __config__=ConfigDict(extra="forbid"), **_CHANGE_FIELDS
)


def stored(data: PracticeData) -> dict[str, Any]:
    """The JSON form kept in the database."""
    return data.model_dump(mode="json")


def preferred_name(data: dict[str, Any]) -> str:
    """The preferred organisation name of a stored version."""
    return preferred(data.get("names", []), "name") or ""


def public_event(
    data: dict[str, Any],
    *,
    practice_id: str,
    revision: int,
    first: bool,
    now: datetime,
) -> PracticeFichePublished | PracticeFicheUpdated:
    """The public event of a published version: everything but e-mail addresses."""
    event_class = PracticeFichePublished if first else PracticeFicheUpdated
    return event_class(
        practice_id=practice_id,
        name=preferred_name(data),
        names=tuple(PublicPracticeName(**n) for n in data.get("names", [])),
        addresses=tuple(PublicAddress(**a) for a in data.get("addresses", [])),
        phone_numbers=tuple(PublicPhoneNumber(**p) for p in data.get("phone_numbers", [])),
        websites=tuple(PublicWebsite(**w) for w in data.get("websites", [])),
        target_groups=tuple(data.get("target_groups", [])),
        age_categories=tuple(data.get("age_categories", [])),
        wijken=tuple(data.get("wijken", [])),
        contact_persons=tuple(
            PublicContactPerson(name=c["name"], role=c.get("role"))
            for c in data.get("contact_persons", [])
        ),
        opening_hours=tuple(PublicOpeningHours(**o) for o in data.get("opening_hours", [])),
        extra_offer=tuple(data.get("extra_offer", [])),
        revision=revision,
        occurred_at=now,
    )
