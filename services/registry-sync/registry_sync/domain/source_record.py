"""One professional as the authentic source describes it (SOURCE-FORMAT.md), validated.

Validation errors name the field, so an import can say "line 1234, field
professions.0.riziv_number: check digits do not match" and the operator can fix the file.
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.events.registry import Convention, Diploma, ProfessionRecord, RegistrationStatus
from registry_sync.domain.identifiers import PROFESSIONS, is_valid_riziv_number, is_valid_ssin
from registry_sync.domain.source_limits import (
    MAX_DIPLOMAS,
    MAX_PROFESSIONS,
    DiplomaTitle,
    LanguageCode,
    Name,
    VisaNumber,
)


class SourceDiploma(BaseModel):
    """A diploma of one profession in the source."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    title: DiplomaTitle
    date: dt.date | None = None

    def to_diploma(self) -> Diploma:
        """The diploma as events carry it."""
        # Constructed, not validated again: every field was validated on this model.
        return Diploma.model_construct(title=self.title, date=self.date)


class SourceProfession(BaseModel):
    """One profession of one person in the source."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    profession: str
    visa_status: RegistrationStatus
    visa_number: VisaNumber | None = None
    riziv_number: str | None = None
    riziv_status: RegistrationStatus | None = None
    qualification_code: str | None = None
    convention: Convention | None = None
    diplomas: tuple[SourceDiploma, ...] = Field(default=(), max_length=MAX_DIPLOMAS)

    @field_validator("profession")
    @classmethod
    def _known_profession(cls, value: str) -> str:
        if value not in PROFESSIONS:
            raise ValueError(f"unknown profession code {value!r}; known: {', '.join(PROFESSIONS)}")
        return value

    @field_validator("riziv_number")
    @classmethod
    def _valid_riziv(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_riziv_number(value):
            raise ValueError("not a valid RIZIV number (11 digits, check digits must match)")
        return value

    @field_validator("qualification_code")
    @classmethod
    def _three_digits(cls, value: str | None) -> str | None:
        if value is not None and not (len(value) == 3 and value.isdigit()):
            raise ValueError("qualification_code must be three digits")
        return value

    def to_record(self) -> ProfessionRecord:
        """The facts registry-sync keeps and publishes (the visa number stays here)."""
        # Constructed, not validated again: every field was validated on this model, and
        # validating twice was the largest single cost of a national import.
        return ProfessionRecord.model_construct(
            profession=self.profession,
            visa_status=self.visa_status,
            riziv_number=self.riziv_number,
            # A RIZIV status without a number says nothing: drop it.
            riziv_status=self.riziv_status if self.riziv_number else None,
            qualification_code=self.qualification_code,
            convention=self.convention,
            diplomas=tuple(diploma.to_diploma() for diploma in self.diplomas),
        )


class SourceProfessional(BaseModel):
    """One line of a snapshot (or one change of the delta feed)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ssin: str = Field(repr=False)
    last_name: Name
    first_name: Name
    gender: Literal["M", "F", "X"] | None = None
    birth_date: date | None = Field(default=None, repr=False)
    language: LanguageCode | None = None
    practice_ban: bool = False
    deceased: bool = False
    version: datetime
    # "At least one" is checked after the items (not with min_length): an invalid
    # profession must be reported once, not also as "no professions".
    professions: tuple[SourceProfession, ...] = Field(max_length=MAX_PROFESSIONS)
    removed: bool = False

    @field_validator("ssin")
    @classmethod
    def _valid_ssin(cls, value: str) -> str:
        # The value itself is never echoed in the error: it is personal data.
        if not is_valid_ssin(value):
            raise ValueError("not a valid national register number (11 digits, mod-97 check)")
        return value

    @field_validator("professions")
    @classmethod
    def _at_least_one(cls, value: tuple[SourceProfession, ...]) -> tuple[SourceProfession, ...]:
        if not value:
            raise ValueError("at least one profession is required")
        return value

    @field_validator("version")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("version must carry a time zone, e.g. 2026-11-27T22:00:00Z")
        # Normalised to UTC: SQLite keeps no offset, and versions are compared after storage.
        return value.astimezone(UTC)
