"""Identifiers of healthcare professionals and the profession reference tables.

Pure functions and constants, no I/O. Two numbers identify a professional in the
authentic source:

* the **national register number** (SSIN, `rijksregisternummer`): personal data. Never
  log it or put it in an event; these helpers only check its form.
* the **RIZIV/INAMI number**: public, shown on the provider fiche.

Both carry mod-97 check digits, which catch typing errors only: a number that passes is
well-formed, not necessarily one that exists.
"""

from __future__ import annotations

from typing import Final

from contracts.profession_labels import PROFESSION_LABELS

SSIN_LENGTH: Final = 11
RIZIV_LENGTH: Final = 11

#: What putting a "2" before the nine digits of an SSIN adds to their value: the
#: check-digit rule for people born in 2000 or later.
SSIN_BORN_AFTER_2000_OFFSET: Final = 2_000_000_000

#: The profession codes of the platform, in the order the directory lists them.
PROFESSIONS: Final[tuple[str, ...]] = (
    "physician",
    "pharmacist",
    "nurse",
    "midwife",
    "physiotherapist",
    "dentist",
    "dietitian",
    "psychologist",
    "speech_therapist",
    "occupational_therapist",
)

#: Dutch label of every profession code, as the directory shows it: the platform's one
#: table of profession labels (contracts.profession_labels). `physician` reads "arts":
#: whether someone is a GP (`huisarts`) or a specialist is their qualification, not
#: their profession.
PROFESSION_LABELS_NL: Final[dict[str, str]] = PROFESSION_LABELS["nl"]

#: Professions for which the authentic source is expected to carry a RIZIV number.
#:
#: A simplification, on purpose: in reality clinical psychologists get a RIZIV number
#: too once they work under the reimbursement convention, and a nurse who only works in
#: a hospital has none. On this platform every profession except `psychologist` has one,
#: and a psychologist is checked on the visa alone. `riziv_number`, `riziv_status` and
#: `qualification_code` are absent from a profession outside this set.
PROFESSIONS_WITH_RIZIV: Final[frozenset[str]] = frozenset(PROFESSIONS) - {"psychologist"}

#: Leading digit of the RIZIV number per profession, as this platform applies it.
#:
#: Follows the RIZIV profession digits (1 physician, 3 dentist, 4 nurse or midwife,
#: 5 physiotherapist, 6 pharmacist); the platform puts every other paramedical
#: profession it knows (dietitian, speech therapist, occupational therapist) under 5 as
#: well. Professions sharing a digit are told apart by their qualification code, see
#: `QUALIFICATION_CODES`, whose codes never overlap within one digit.
RIZIV_PROFESSION_DIGIT: Final[dict[str, str]] = {
    "physician": "1",
    "dentist": "3",
    "nurse": "4",
    "midwife": "4",
    "physiotherapist": "5",
    "dietitian": "5",
    "speech_therapist": "5",
    "occupational_therapist": "5",
    "pharmacist": "6",
}

#: The three-digit qualification (competence) codes this platform knows, per profession,
#: with their Dutch label. Illustrative, modelled on the RIZIV codes rather than a copy
#: of the official nomenclature: GPs are "003"/"004" (accredited) and "005" (in
#: training), specialists have their own codes. Within one profession digit no two
#: professions share a code.
QUALIFICATION_CODES: Final[dict[str, dict[str, str]]] = {
    "physician": {
        "003": "erkend huisarts",
        "004": "erkend huisarts, geaccrediteerd",
        "005": "huisarts in opleiding",
        "140": "geneesheer-specialist inwendige geneeskunde",
        "180": "geneesheer-specialist pediatrie",
        "340": "geneesheer-specialist gynaecologie-verloskunde",
        "580": "geneesheer-specialist psychiatrie",
        "690": "geneesheer-specialist dermato-venereologie",
        "730": "geneesheer-specialist cardiologie",
    },
    "dentist": {
        "001": "tandarts",
        "004": "algemeen tandarts",
        "007": "tandarts-specialist orthodontie",
        "009": "tandarts-specialist parodontologie",
    },
    "nurse": {
        "401": "verpleegkundige (bachelor)",
        "402": "verpleegkundige (gegradueerde, HBO5)",
        "404": "verpleegkundige, bijzondere beroepstitel geriatrie",
        "405": "verpleegkundige, bijzondere beroepstitel pediatrie en neonatologie",
        "406": "verpleegkundige, bijzondere beroepstitel oncologie",
        "407": "verpleegkundige, bijzondere beroepstitel intensieve zorg en spoedgevallenzorg",
    },
    "midwife": {
        "470": "vroedvrouw",
        "471": "vroedvrouw, bijzondere beroepsbekwaamheid",
    },
    "physiotherapist": {
        "510": "kinesitherapeut",
        "511": "kinesitherapeut, bijzondere bekwaming pediatrie",
        "512": "kinesitherapeut, bijzondere bekwaming musculoskeletale revalidatie",
        "513": "kinesitherapeut, bijzondere bekwaming cardiorespiratoire revalidatie",
        "514": "kinesitherapeut, bijzondere bekwaming neurologische revalidatie",
    },
    "speech_therapist": {
        "530": "logopedist",
        "531": "logopedist, bijzondere bekwaming dysfagie",
    },
    "dietitian": {
        "550": "diëtist",
        "551": "diëtist, diabeteseducator",
    },
    "occupational_therapist": {
        "570": "ergotherapeut",
    },
    "pharmacist": {
        "000": "apotheker",
        "001": "apotheker-titularis",
        "020": "ziekenhuisapotheker",
    },
}


def _digits(value: str, length: int, what: str) -> int:
    """Return `value` as an int, or raise ValueError unless it is `length` ASCII digits.

    `str.isdigit` alone would accept other scripts' digits ("²", "٣"), hence `isascii`.
    """
    if len(value) != length or not value.isascii() or not value.isdigit():
        raise ValueError(f"{what} must be exactly {length} digits")
    return int(value)


def mod97_check_digits(number: int) -> str:
    """Return `97 - (number mod 97)` as two digits: "01" to "97", never "00".

    The check of both national register and RIZIV numbers, for a caller that already
    holds the covered digits as an int (the demo generator, a million times over).
    """
    return f"{97 - number % 97:02d}"


def ssin_check_digits(first9: str, born_after_2000: bool) -> str:
    """Return the two check digits of a national register number (SSIN).

    `first9` is the birth date YYMMDD followed by the three-digit birth sequence (odd
    for men, even for women). The check is `97 - (int(first9) mod 97)`; for people born
    in 2000 or later a "2" is put before the nine digits first, so the check digits also
    tell the century. The result is "01" to "97", never "00".

    Raises ValueError unless `first9` is nine ASCII digits.
    """
    number = _digits(first9, 9, "the first part of a national register number")
    if born_after_2000:
        number += SSIN_BORN_AFTER_2000_OFFSET
    return mod97_check_digits(number)


def build_ssin(first9: str, born_after_2000: bool) -> str:
    """Return the 11-digit national register number: `first9` plus its check digits."""
    return first9 + ssin_check_digits(first9, born_after_2000)


def is_valid_ssin(value: str) -> bool:
    """Tell whether `value` is a well-formed national register number (SSIN).

    Eleven ASCII digits whose last two are the check digits of the first nine, for a
    birth before 2000 or in 2000 or later (either variant is accepted). The date part is
    deliberately not checked: numbers with an unknown birth date (month or day 00) and
    BIS numbers (month plus 20 or 40) are valid national numbers too.
    """
    if len(value) != SSIN_LENGTH or not value.isascii() or not value.isdigit():
        return False
    first9, check = value[:9], value[9:]
    return check in (ssin_check_digits(first9, False), ssin_check_digits(first9, True))


def riziv_check_digits(first6: str) -> str:
    """Return the two check digits of a RIZIV/INAMI number.

    A RIZIV number is eleven digits: profession digit, five-digit sequence, two check
    digits, three-digit qualification code. The check this platform applies covers the
    first six digits (profession digit and sequence, which together identify the
    person): `97 - (int(first6) mod 97)`, written as two digits, so "01" to "97" and
    never "00". The qualification code is outside the check: it changes when the
    person's competence changes, the rest of the number does not.

    Raises ValueError unless `first6` is six ASCII digits.
    """
    return mod97_check_digits(_digits(first6, 6, "the first part of a RIZIV number"))


def build_riziv_number(first6: str, qualification_code: str) -> str:
    """Return the 11-digit RIZIV number for `first6` and a three-digit qualification code.

    Raises ValueError unless `first6` is six and `qualification_code` three ASCII digits.
    """
    _digits(qualification_code, 3, "a qualification code")
    return first6 + riziv_check_digits(first6) + qualification_code


def is_valid_riziv_number(value: str) -> bool:
    """Tell whether `value` is a well-formed RIZIV/INAMI number.

    Eleven ASCII digits whose digits 7-8 are `riziv_check_digits` of digits 1-6. Neither
    the profession digit nor the qualification code is looked up here: the source may
    know professions and codes this platform does not (yet).
    """
    if len(value) != RIZIV_LENGTH or not value.isascii() or not value.isdigit():
        return False
    return value[6:8] == riziv_check_digits(value[:6])
