"""National register (SSIN) and RIZIV number checks, and the profession tables."""

import pytest

from registry_sync.domain.identifiers import (
    PROFESSION_LABELS_NL,
    PROFESSIONS,
    PROFESSIONS_WITH_RIZIV,
    QUALIFICATION_CODES,
    RIZIV_PROFESSION_DIGIT,
    build_riziv_number,
    build_ssin,
    is_valid_riziv_number,
    is_valid_ssin,
    riziv_check_digits,
    ssin_check_digits,
)


def fullwidth(digits: str) -> str:
    """The same digits in the fullwidth forms U+FF10-FF19, which `str.isdigit` accepts."""
    return "".join(chr(ord(digit) + 0xFEE0) for digit in digits)


# --- SSIN ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ssin",
    [
        "85073003328",  # SOURCE-FORMAT.md's example: 97 - 850730033 % 97 = 97 - 69 = 28
        "93011529749",  # 97 - 930115297 % 97 = 97 - 48 = 49
        "01020312345",  # born 2001: 97 - 2010203123 % 97 = 97 - 52 = 45
        "05061204265",  # born 2005: 97 - 2050612042 % 97 = 97 - 32 = 65
    ],
)
def test_well_formed_ssins_are_valid(ssin: str) -> None:
    assert is_valid_ssin(ssin)


@pytest.mark.parametrize(
    "ssin",
    [
        "85073003329",  # check digits off by one
        "85073003382",  # check digits swapped
        "85073103328",  # one digit of the birth date changed
        "8507300332",  # ten digits
        "850730033280",  # twelve digits
        "85O73003328",  # letter O for a zero
        "85.07.30-033.28",  # formatted as printed on an ID card
        fullwidth("85073003328"),  # passes str.isdigit, not this check
        "",
    ],
)
def test_malformed_ssins_are_rejected(ssin: str) -> None:
    assert not is_valid_ssin(ssin)


def test_ssin_check_digits_differ_for_a_birth_in_2000_or_later() -> None:
    # The same nine digits, born 1901 or 2001: the "2" prefix changes the check.
    assert ssin_check_digits("010203123", born_after_2000=False) == "16"
    assert ssin_check_digits("010203123", born_after_2000=True) == "45"
    assert is_valid_ssin("01020312316")
    assert is_valid_ssin("01020312345")
    assert not is_valid_ssin("01020312399")


def test_ssin_check_digits_are_97_rather_than_00_for_a_multiple_of_97() -> None:
    assert int("097000000") % 97 == 0
    assert ssin_check_digits("097000000", born_after_2000=False) == "97"
    assert is_valid_ssin(build_ssin("097000000", born_after_2000=False))


def test_build_ssin_appends_the_check_digits() -> None:
    assert build_ssin("850730033", born_after_2000=False) == "85073003328"
    assert build_ssin("050612042", born_after_2000=True) == "05061204265"


@pytest.mark.parametrize("first9", ["85073003", "8507300331", "85073003a", fullwidth("850730033")])
def test_ssin_check_digits_refuse_anything_but_nine_ascii_digits(first9: str) -> None:
    with pytest.raises(ValueError, match="9 digits"):
        ssin_check_digits(first9, born_after_2000=False)


# --- RIZIV ---------------------------------------------------------------------------


def test_the_source_format_example_riziv_number_passes_the_platform_check() -> None:
    # 1-02345-87-004: 97 - 102345 % 97 = 97 - 10 = 87; qualification 004 (GP).
    assert riziv_check_digits("102345") == "87"
    assert is_valid_riziv_number("10234587004")


def test_riziv_number_round_trips_through_build_and_check() -> None:
    number = build_riziv_number("123456", "004")
    assert number == "12345625004"  # 123456 % 97 = 72, 97 - 72 = 25
    assert is_valid_riziv_number(number)


def test_riziv_check_digits_are_97_rather_than_00_for_a_multiple_of_97() -> None:
    assert 100007 % 97 == 0
    assert riziv_check_digits("100007") == "97"
    assert is_valid_riziv_number("10000797004")
    assert not is_valid_riziv_number("10000700004")


@pytest.mark.parametrize(
    "tampered",
    [
        "12346625004",  # one sequence digit changed
        "13245625004",  # two sequence digits swapped
        "22345625004",  # profession digit changed
        "12345626004",  # check digits changed
    ],
)
def test_tampered_riziv_numbers_are_rejected(tampered: str) -> None:
    assert not is_valid_riziv_number(tampered)


def test_qualification_code_is_outside_the_riziv_check() -> None:
    # The same person moving from GP in training (005) to accredited GP (004).
    assert is_valid_riziv_number("12345625005")
    assert is_valid_riziv_number("12345625004")


@pytest.mark.parametrize("number", ["1234562500", "123456250041", "12345625OO4", ""])
def test_malformed_riziv_numbers_are_rejected(number: str) -> None:
    assert not is_valid_riziv_number(number)


def test_build_riziv_number_refuses_a_qualification_code_that_is_not_three_digits() -> None:
    with pytest.raises(ValueError, match="3 digits"):
        build_riziv_number("123456", "04")


# --- profession tables ---------------------------------------------------------------


def test_every_profession_has_a_dutch_label() -> None:
    assert set(PROFESSION_LABELS_NL) == set(PROFESSIONS)
    assert PROFESSION_LABELS_NL["physiotherapist"] == "kinesitherapeut"
    assert PROFESSION_LABELS_NL["midwife"] == "vroedvrouw"


def test_every_profession_but_psychologist_expects_a_riziv_number() -> None:
    assert set(PROFESSIONS) - {"psychologist"} == PROFESSIONS_WITH_RIZIV


def test_every_riziv_profession_has_a_profession_digit_and_qualification_codes() -> None:
    assert set(RIZIV_PROFESSION_DIGIT) == PROFESSIONS_WITH_RIZIV
    assert set(QUALIFICATION_CODES) == PROFESSIONS_WITH_RIZIV
    assert RIZIV_PROFESSION_DIGIT["physician"] == "1"
    assert {"003", "004"} <= set(QUALIFICATION_CODES["physician"])
    for codes in QUALIFICATION_CODES.values():
        assert all(len(code) == 3 and code.isdigit() for code in codes)


def test_professions_sharing_a_digit_never_share_a_qualification_code() -> None:
    # Otherwise the full RIZIV number could not tell a nurse from a midwife.
    seen: dict[tuple[str, str], str] = {}
    for profession, digit in RIZIV_PROFESSION_DIGIT.items():
        for code in QUALIFICATION_CODES[profession]:
            assert (digit, code) not in seen, (profession, seen.get((digit, code)))
            seen[digit, code] = profession
