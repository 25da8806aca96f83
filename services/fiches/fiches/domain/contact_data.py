"""What people type on a fiche, validated: names, addresses, phones, e-mail, websites, ...

Every model here checks its input so that a bad value is refused with the field named
(`phone_numbers.1.number`) and a hint how to write it; nothing half-valid is stored.
Lists of names, addresses, phone numbers, e-mail addresses and websites have exactly one
value marked preferred (the one shown first); a list of one value has that value as its
preferred one, so nobody has to tick a box for a single phone number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from servicekit.plain_text import SingleLineText
from servicekit.readable_patterns import described

Text200 = Annotated[SingleLineText, Field(min_length=1, max_length=200)]
ShortList = Annotated[list[Text200], Field(max_length=50)]


class _Value(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Preferable(_Value):
    preferred: bool = Field(default=False, description="The value shown first.")


class OrganisationName(Preferable):
    """An organisation name of a practice (e.g. `Het Warmste Team`)."""

    name: Text200


class Address(Preferable):
    """A Belgian address."""

    street: Text200
    number: Annotated[SingleLineText, Field(min_length=1, max_length=20)]
    box: Annotated[SingleLineText, Field(max_length=20)] | None = None
    postcode: str = Field(description="Belgian postcode, 1000 to 9999.")
    municipality: Text200

    @field_validator("postcode")
    @classmethod
    def _belgian_postcode(cls, value: str) -> str:
        if not re.fullmatch(r"[1-9][0-9]{3}", value):
            raise ValueError(
                f"{value!r} is not a Belgian postcode: write four digits from 1000 to 9999"
            )
        return value


def belgian_phone_number(value: str) -> str:
    """The number in E.164 form (+32...), or ValueError saying how to write it."""
    hint = "write a Belgian number such as 09 265 81 11, 0470 12 34 56 or +32 9 265 81 11"
    try:
        parsed = phonenumbers.parse(value, "BE")
    except phonenumbers.NumberParseException as error:
        raise ValueError(f"{value!r} is not a phone number: {hint}") from error
    if parsed.country_code != 32 or not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value!r} is not a valid Belgian phone number: {hint}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class PhoneNumber(Preferable):
    """A Belgian phone number, stored in E.164 form."""

    number: str

    @field_validator("number")
    @classmethod
    def _belgian(cls, value: str) -> str:
        return belgian_phone_number(value)


class EmailAddress(Preferable):
    """An e-mail address (syntax checked; the domain is not looked up)."""

    email: str

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ValueError(
                f"{value!r} is not an e-mail address ({error}): write it like info@example.be"
            ) from error


class Website(Preferable):
    """A web address (http or https)."""

    url: Annotated[SingleLineText, Field(max_length=500)]

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        parts = urlsplit(value)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or "." not in host or " " in value:
            raise ValueError(
                f"{value!r} is not a web address: write it like https://www.example.be"
            )
        return value


class ContactPerson(_Value):
    """A person to ask for at the practice."""

    name: Text200
    role: Annotated[SingleLineText, Field(max_length=200)] | None = None
    phone: str | None = Field(default=None, description="Belgian phone number.")

    @field_validator("phone")
    @classmethod
    def _belgian(cls, value: str | None) -> str | None:
        return None if value is None else belgian_phone_number(value)


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


class AgeCategory(StrEnum):
    """Priority age categories."""

    BABY = "baby"
    CHILD = "child"
    ADOLESCENT = "adolescent"
    ADULT = "adult"
    SENIOR = "senior"


_CLOCK = described(
    r"([01][0-9]|2[0-3]):[0-5][0-9]", "a time of day as HH:MM, 00:00 to 23:59 (08:30)"
)


class OpeningHours(_Value):
    """One opening period on one weekday (several periods a day are several entries)."""

    day: Weekday
    opens: str = Field(pattern=_CLOCK, description="HH:MM")
    closes: str = Field(pattern=_CLOCK, description="HH:MM")
    note: Annotated[SingleLineText, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _closes_after_opening(self) -> OpeningHours:
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes}) must be later than opens ({self.opens})")
        return self


P = TypeVar("P", bound=Preferable)


def one_preferred(what: str) -> Callable[[list[P]], list[P]]:
    """A list validator: exactly one value marked preferred (a lone value is preferred)."""

    def check(values: list[P]) -> list[P]:
        if len(values) == 1 and not values[0].preferred:
            return [values[0].model_copy(update={"preferred": True})]
        marked = sum(1 for value in values if value.preferred)
        if values and marked != 1:
            raise ValueError(
                f"mark exactly one {what} as preferred (set `preferred: true` on one of "
                f"them); {marked} are marked"
            )
        return values

    return check


Names = Annotated[
    list[OrganisationName],
    Field(min_length=1, max_length=20),
    AfterValidator(one_preferred("name")),
]
Addresses = Annotated[list[Address], Field(max_length=20), AfterValidator(one_preferred("address"))]
PhoneNumbers = Annotated[
    list[PhoneNumber], Field(max_length=20), AfterValidator(one_preferred("phone number"))
]
EmailAddresses = Annotated[
    list[EmailAddress], Field(max_length=20), AfterValidator(one_preferred("e-mail address"))
]
Websites = Annotated[list[Website], Field(max_length=20), AfterValidator(one_preferred("website"))]


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Names of the top-level fields whose value differs (for the history)."""
    before = before or {}
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def preferred(values: Sequence[dict[str, Any]], key: str) -> str | None:
    """The preferred value of a stored list (first one if none is marked)."""
    for value in values:
        if value.get("preferred"):
            return str(value[key])
    return str(values[0][key]) if values else None
