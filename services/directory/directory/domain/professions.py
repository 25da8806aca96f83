"""The professions the directory shows, as a code system of its own (nl, fr, en).

Codes are the platform's profession codes (as the public topics carry them). Where the
RIZIV/INAMI numbers a profession by the leading digit of its practitioners' numbers
(1 physician, 3 dentist, 4 nursing, 5 physiotherapy, 6 pharmacy), that digit is given as
a property; the other professions have no such digit of their own.

`hcparty` is the profession's code in eHealth's healthcare party list, `CD-HCPARTY`, as
HL7 Belgium's FHIR CodeSystem publishes it (`HCPARTY_SYSTEM`): the national codes Belgian
FHIR and KMEHR systems exchange a care provider's profession in (`persphysician`,
`persnurse`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profession:
    code: str
    nl: str
    fr: str
    en: str
    riziv_digit: str | None = None
    hcparty: str | None = None


HCPARTY_SYSTEM = "https://www.ehealth.fgov.be/standards/fhir/core/CodeSystem/cd-hcparty"

PROFESSIONS: tuple[Profession, ...] = (
    Profession("physician", "arts", "médecin", "physician", "1", "persphysician"),
    Profession("pharmacist", "apotheker", "pharmacien", "pharmacist", "6", "perspharmacist"),
    Profession("nurse", "verpleegkundige", "infirmier", "nurse", "4", "persnurse"),
    Profession("midwife", "vroedvrouw", "sage-femme", "midwife", "4", "persmidwife"),
    Profession(
        "physiotherapist",
        "kinesitherapeut",
        "kinésithérapeute",
        "physiotherapist",
        "5",
        "persphysiotherapist",
    ),
    Profession("dentist", "tandarts", "dentiste", "dentist", "3", "persdentist"),
    Profession("dietitian", "diëtist", "diététicien", "dietitian", hcparty="persdietician"),
    Profession(
        "psychologist",
        "klinisch psycholoog",
        "psychologue clinicien",
        "clinical psychologist",
        hcparty="persclinicalpsychologist",
    ),
    Profession(
        "speech_therapist", "logopedist", "logopède", "speech therapist", hcparty="perslogopedist"
    ),
    Profession(
        "occupational_therapist",
        "ergotherapeut",
        "ergothérapeute",
        "occupational therapist",
        hcparty="persoccupationaltherapist",
    ),
)

BY_CODE = {p.code: p for p in PROFESSIONS}
BY_HCPARTY = {p.hcparty: p for p in PROFESSIONS if p.hcparty}


def profession(code: str) -> Profession:
    """A known profession, or one named by its code (a profession added later upstream)."""
    return BY_CODE.get(code) or Profession(code, code, code, code.replace("_", " "))
