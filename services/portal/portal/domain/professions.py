"""From what a citizen types in the profession field to the code the search API takes."""

from __future__ import annotations

import unicodedata

from contracts.profession_labels import EXTRA_OFFER_LABELS, PROFESSION_LABELS

#: Everyday words for a profession, beyond its table label. A GP is a physician to the
#: search API; GP_WORDS narrow it to a GP qualification.
SYNONYMS: dict[str, str] = {
    "huisarts": "physician",
    "dokter": "physician",
    "médecin généraliste": "physician",
    "generaliste": "physician",
    "general practitioner": "physician",
    "gp": "physician",
    "doctor": "physician",
    "kine": "physiotherapist",
    "kiné": "physiotherapist",
    "thuisverpleegkundige": "nurse",
    "psycholoog": "psychologist",
    "psychologue": "psychologist",
    "psychologist": "psychologist",
    "infirmière": "nurse",
    "diététicienne": "dietitian",
}


#: Words for a general practitioner: the search asks for a physician with a GP
#: qualification (the search API's `qualification=general_practitioner`), not every
#: physician. "arts", "dokter" and "doctor" stay every physician.
GP_WORDS = frozenset(
    {"huisarts", "médecin généraliste", "generaliste", "general practitioner", "gp"}
)
GENERAL_PRACTITIONER = "general_practitioner"


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


_LOOKUP: dict[str, str] = {
    **{
        _plain(label): code
        for table in (PROFESSION_LABELS, EXTRA_OFFER_LABELS)
        for labels in table.values()
        for code, label in labels.items()
    },
    **{
        _plain(code): code
        for table in (PROFESSION_LABELS, EXTRA_OFFER_LABELS)
        for code in table["nl"]
    },
    **{_plain(word): code for word, code in SYNONYMS.items()},
}


def profession_code(typed: str) -> str | None:
    """The code of a typed profession name in any of the three languages, or None."""
    return _LOOKUP.get(_plain(typed)) if typed.strip() else None


_GP_LOOKUP = frozenset(_plain(word) for word in GP_WORDS)


def profession_filter(typed: str) -> dict[str, str] | None:
    """The search API's filter for a typed profession name (`profession`, and for a GP
    word also `qualification`), or None when the profession is unknown."""
    code = profession_code(typed)
    if code is None:
        return None
    if _plain(typed) in _GP_LOOKUP:
        return {"profession": code, "qualification": GENERAL_PRACTITIONER}
    return {"profession": code}
