"""What each profession code is called in Dutch, French and English.

Events carry profession codes (`nurse`, `physician`, …); people read labels. This table is
the one place for them: notifications writes them in mails, and a web portal shows them.
The Dutch labels are the directory's (`PROFESSION_LABELS_NL` of registry-sync, which a
test keeps equal). `physician` reads "arts"/"médecin": whether someone is a GP or a
specialist is their qualification, not their profession.
"""

from __future__ import annotations

from typing import Final

PROFESSION_LABELS: Final[dict[str, dict[str, str]]] = {
    "nl": {
        "physician": "arts",
        "pharmacist": "apotheker",
        "nurse": "verpleegkundige",
        "midwife": "vroedvrouw",
        "physiotherapist": "kinesitherapeut",
        "dentist": "tandarts",
        "dietitian": "diëtist",
        "psychologist": "klinisch psycholoog",
        "speech_therapist": "logopedist",
        "occupational_therapist": "ergotherapeut",
    },
    "fr": {
        "physician": "médecin",
        "pharmacist": "pharmacien",
        "nurse": "infirmier",
        "midwife": "sage-femme",
        "physiotherapist": "kinésithérapeute",
        "dentist": "dentiste",
        "dietitian": "diététicien",
        "psychologist": "psychologue clinicien",
        "speech_therapist": "logopède",
        "occupational_therapist": "ergothérapeute",
    },
    "en": {
        "physician": "physician",
        "pharmacist": "pharmacist",
        "nurse": "nurse",
        "midwife": "midwife",
        "physiotherapist": "physiotherapist",
        "dentist": "dentist",
        "dietitian": "dietitian",
        "psychologist": "clinical psychologist",
        "speech_therapist": "speech therapist",
        "occupational_therapist": "occupational therapist",
    },
}

#: Offers a practice may list that are not professions of the register.
EXTRA_OFFER_LABELS: Final[dict[str, dict[str, str]]] = {
    "nl": {
        "osteopath": "osteopaat",
        "clinical_sexologist": "klinisch seksuoloog",
        "tobacco_specialist": "tabakoloog",
    },
    "fr": {
        "osteopath": "ostéopathe",
        "clinical_sexologist": "sexologue clinicien",
        "tobacco_specialist": "tabacologue",
    },
    "en": {
        "osteopath": "osteopath",
        "clinical_sexologist": "clinical sexologist",
        "tobacco_specialist": "tobacco specialist",
    },
}


def profession_label(code: str, language: str) -> str:
    """The label of `code` in nl, fr or en (Dutch for another language).

    A code the table does not know yet (codes are open, like enums on topics) reads as
    itself with spaces: `music_therapist` → "music therapist".
    """
    labels = PROFESSION_LABELS.get(language, PROFESSION_LABELS["nl"])
    extras = EXTRA_OFFER_LABELS.get(language, EXTRA_OFFER_LABELS["nl"])
    return labels.get(code) or extras.get(code) or code.replace("_", " ")
