"""Who may log in as a professional: at least one profession they may practise.

The facts come from registry-sync's events (identity's eligibility view); this module
only decides, and says which check failed and what the person can do about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts.events.registry import ProfessionRecord, RegistrationStatus


class Refusal(StrEnum):
    """The check that kept someone out of the professional login."""

    UNKNOWN_TO_REGISTRY = "unknown_to_registry"
    REMOVED_FROM_REGISTRY = "removed_from_registry"
    DECEASED = "deceased"
    PRACTICE_BAN = "practice_ban"
    NO_ACTIVE_VISA = "no_active_visa"
    RIZIV_NUMBER_INACTIVE = "riziv_number_inactive"


_CITIZEN_HINT = "You can still log in as a citizen (/api/identity/login?as=citizen)."

_MESSAGES: dict[Refusal, tuple[str, str]] = {
    Refusal.UNKNOWN_TO_REGISTRY: (
        "The register of healthcare professionals (CoBRHA) has no professional with your "
        "national register number.",
        "If you were registered recently, try again tomorrow: the register reaches the "
        "platform within a day. Otherwise ask the FPS Public Health to register your visa. "
        + _CITIZEN_HINT,
    ),
    Refusal.REMOVED_FROM_REGISTRY: (
        "You are no longer listed in the register of healthcare professionals (CoBRHA).",
        "Ask the FPS Public Health why you were removed. " + _CITIZEN_HINT,
    ),
    Refusal.DECEASED: (
        "The register of healthcare professionals lists this person as deceased.",
        "If this is a mistake, ask the FPS Public Health to correct the register. " + _CITIZEN_HINT,
    ),
    Refusal.PRACTICE_BAN: (
        "A practice ban is in force in the register of healthcare professionals.",
        "Professional login is closed while the ban lasts. " + _CITIZEN_HINT,
    ),
    Refusal.NO_ACTIVE_VISA: (
        "None of your professions has an active visa in the register of healthcare professionals.",
        "Ask the FPS Public Health to (re)activate your visa; the platform follows the "
        "register within a day. " + _CITIZEN_HINT,
    ),
    Refusal.RIZIV_NUMBER_INACTIVE: (
        "Your RIZIV/INAMI number is not active for any profession you hold a visa for.",
        "Ask the RIZIV/INAMI to (re)activate your number; the platform follows the "
        "register within a day. " + _CITIZEN_HINT,
    ),
}


@dataclass(frozen=True)
class ProfessionalFacts:
    """What the eligibility view knows of one person."""

    professional_id: str
    professions: tuple[ProfessionRecord, ...]
    practice_ban: bool = False
    deceased: bool = False
    removed: bool = False


@dataclass(frozen=True)
class Decision:
    """The outcome of the professional login check."""

    professional_id: str | None
    professions: tuple[str, ...]
    refusal: Refusal | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def message(self) -> str:
        return _MESSAGES[self.refusal][0] if self.refusal else ""

    @property
    def what_to_do(self) -> str:
        return _MESSAGES[self.refusal][1] if self.refusal else ""


def decide(facts: ProfessionalFacts | None) -> Decision:
    """May this person log in as a professional, and with which professions?"""
    if facts is None:
        return Decision(None, (), Refusal.UNKNOWN_TO_REGISTRY)
    pid = facts.professional_id
    if facts.removed:
        return Decision(pid, (), Refusal.REMOVED_FROM_REGISTRY)
    if facts.deceased:
        return Decision(pid, (), Refusal.DECEASED)
    if facts.practice_ban:
        return Decision(pid, (), Refusal.PRACTICE_BAN)
    active = tuple(p.profession for p in facts.professions if p.may_practise())
    if active:
        return Decision(pid, active, None)
    if any(p.visa_status is RegistrationStatus.ACTIVE for p in facts.professions):
        return Decision(pid, (), Refusal.RIZIV_NUMBER_INACTIVE)
    return Decision(pid, (), Refusal.NO_ACTIVE_VISA)
