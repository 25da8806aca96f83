"""The professions the directory shows, as a code system of its own (nl, fr, en).

Codes are the platform's profession codes (as the public topics carry them). Where the
RIZIV/INAMI numbers a profession by the leading digit of its practitioners' numbers
(1 physician, 3 dentist, 4 nursing, 5 physiotherapy, 6 pharmacy), that digit is given as
a property; the other professions have no such digit of their own.
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


PROFESSIONS: tuple[Profession, ...] = (
    Profession("physician", "arts", "médecin", "physician", "1"),
    Profession("pharmacist", "apotheker", "pharmacien", "pharmacist", "6"),
    Profession("nurse", "verpleegkundige", "infirmier", "nurse", "4"),
    Profession("midwife", "vroedvrouw", "sage-femme", "midwife", "4"),
    Profession("physiotherapist", "kinesitherapeut", "kinésithérapeute", "physiotherapist", "5"),
    Profession("dentist", "tandarts", "dentiste", "dentist", "3"),
    Profession("dietitian", "diëtist", "diététicien", "dietitian"),
    Profession(
        "psychologist", "klinisch psycholoog", "psychologue clinicien", "clinical psychologist"
    ),
    Profession("speech_therapist", "logopedist", "logopède", "speech therapist"),
    Profession(
        "occupational_therapist", "ergotherapeut", "ergothérapeute", "occupational therapist"
    ),
)

BY_CODE = {p.code: p for p in PROFESSIONS}


def profession(code: str) -> Profession:
    """A known profession, or one named by its code (a profession added later upstream)."""
    return BY_CODE.get(code) or Profession(code, code, code, code.replace("_", " "))
