"""The provider's own part of a provider fiche, and the fields they may not edit.

The authentic source (CoBRHA) owns the official names, RIZIV numbers, professions,
qualification and convention status; the provider owns the name they go by (officially
*Albert*, known as *Bert*), contact data, languages and a description.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from fiches.domain.contact_data import EmailAddresses, PhoneNumbers, Websites
from servicekit.plain_text import MultiLineText, SingleLineText
from servicekit.readable_patterns import described

#: Fields of a provider fiche that only the authentic source changes.
AUTHENTIC_FIELDS = frozenset(
    {
        "official_last_name",
        "official_first_name",
        "last_name",
        "first_name",
        "riziv_number",
        "professions",
        "profession",
        "qualification_code",
        "convention",
        "convention_status",
        "visa_status",
        "riziv_status",
        "diplomas",
        "practice_ban",
        "deceased",
    }
)

Language = Annotated[
    str,
    Field(
        pattern=described(r"^[a-z]{2}$", "a language code of two small letters (nl, fr, en)"),
        description="ISO 639-1 code, e.g. nl",
    ),
]


class ProviderOwnData(BaseModel):
    """What a provider edits on their own fiche."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    preferred_name: Annotated[SingleLineText, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="The name you go by, e.g. Bert Segers for Albert Segers."
    )
    languages: list[Language] = Field(default_factory=list, max_length=20)
    description: Annotated[MultiLineText, Field(max_length=4000)] | None = None
    phone_numbers: PhoneNumbers = Field(default_factory=list)
    email_addresses: EmailAddresses = Field(default_factory=list)
    websites: Websites = Field(default_factory=list)


def source_error_hint(fiche_id: str) -> str:
    """How to report an error in the authentic source (shown with every refusal)."""
    return (
        "this field comes from the authentic source (the federal register of healthcare "
        "professionals, CoBRHA) and cannot be edited here. Is it wrong? Report an error in "
        f"the source: POST /api/fiches/providers/{fiche_id}/source-errors with a "
        "`description`; the editorial team follows it up with the source."
    )
