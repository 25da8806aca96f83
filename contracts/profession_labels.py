"""Profession names in Dutch, French and English: one table for every page and mail.

Codes are the register's profession codes (`ProfessionRecord.profession`) and the extra
offers of practices that are not RIZIV professions.
"""

from __future__ import annotations

#: code → (nl, fr, en)
PROFESSION_LABELS: dict[str, tuple[str, str, str]] = {
    "physician": ("arts", "médecin", "physician"),
    "nurse": ("verpleegkundige", "infirmier", "nurse"),
    "physiotherapist": ("kinesitherapeut", "kinésithérapeute", "physiotherapist"),
    "pharmacist": ("apotheker", "pharmacien", "pharmacist"),
    "psychologist": ("klinisch psycholoog", "psychologue clinicien", "clinical psychologist"),
    "dentist": ("tandarts", "dentiste", "dentist"),
    "speech_therapist": ("logopedist", "logopède", "speech therapist"),
    "occupational_therapist": ("ergotherapeut", "ergothérapeute", "occupational therapist"),
    "midwife": ("vroedvrouw", "sage-femme", "midwife"),
    "dietitian": ("diëtist", "diététicien", "dietitian"),
    "osteopath": ("osteopaat", "ostéopathe", "osteopath"),
    "clinical_sexologist": ("klinisch seksuoloog", "sexologue clinicien", "clinical sexologist"),
    "tobacco_specialist": ("tabakoloog", "tabacologue", "tobacco specialist"),
}

_COLUMN = {"nl": 0, "fr": 1, "en": 2}


def profession_label(code: str, language: str) -> str:
    """The profession's name in `language` (nl, fr or en; Dutch otherwise).

    An unknown code is shown readably rather than failing a page or a mail.
    """
    labels = PROFESSION_LABELS.get(code)
    if labels is None:
        return code.replace("_", " ")
    return labels[_COLUMN.get(language, 0)]
