"""The source-field limits fit what the consumers store (fiches' and identity's columns)."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest
import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError

from directory.adapters import tables as directory_tables
from fiches.adapters import tables as fiches_tables
from registry_sync.adapters.snapshot_files import parse_line
from registry_sync.domain.source_limits import (
    LANGUAGE_MAX_CHARS,
    MAX_DIPLOMAS,
    MAX_PROFESSIONS,
    NAME_MAX_CHARS,
    VISA_NUMBER_MAX_CHARS,
)
from registry_sync.simulator.demo_data import generate_professionals


def length(column: sa.Column[object]) -> int:
    assert isinstance(column.type, sa.String) and column.type.length is not None
    return column.type.length


def test_the_name_and_language_limits_fit_fiches_columns() -> None:
    fiches = fiches_tables.provider_fiches.c
    assert length(fiches.official_first_name) >= NAME_MAX_CHARS
    assert length(fiches.official_last_name) >= NAME_MAX_CHARS
    # fiches keeps "first last", lower-cased, as one search name.
    assert length(fiches.search_name) >= 2 * NAME_MAX_CHARS + 1
    # ... and the public directory every word of a name as a search term "n:<word>".
    assert len("n:") + NAME_MAX_CHARS <= length(directory_tables.search_terms.c.term)
    assert length(fiches.language) >= LANGUAGE_MAX_CHARS


def record(**changes: object) -> dict[str, object]:
    person = next(iter(generate_professionals(1, 3)))
    return {**person, **changes}


def errors_of(data: dict[str, object]) -> list[str]:
    return [str(error) for error in parse_line(7, json.dumps(data).encode()).errors]


def test_the_longest_accepted_name_is_accepted() -> None:
    assert errors_of(record(last_name="é" * NAME_MAX_CHARS, first_name="A" * NAME_MAX_CHARS)) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"last_name": "x" * (NAME_MAX_CHARS + 1)}, "field last_name: String should have at most"),
        ({"last_name": "x" * 270}, "field last_name: String should have at most 150 characters"),
        ({"first_name": "An\x00na"}, "field first_name: contains a control character (U+0000)"),
        ({"first_name": "An\nna"}, "field first_name: contains a control character (U+000A)"),
        ({"last_name": "Pee\u2028ters"}, "field last_name: contains a control character (U+2028)"),
        ({"last_name": "   "}, "field last_name: is blank"),
        ({"language": "n\x00l"}, "field language: language must be a language code of 2 or 3"),
        ({"language": "x" * (LANGUAGE_MAX_CHARS + 1)}, "field language: String should have at"),
    ],
)
def test_a_person_field_out_of_bounds_is_named_without_its_value(
    changes: dict[str, object], expected: str
) -> None:
    found = errors_of(record(**changes))
    assert len(found) == 1, found
    assert found[0].startswith(f"line 7, {expected}")
    for value in changes.values():
        assert str(value) not in found[0]


def test_profession_fields_out_of_bounds_are_named() -> None:
    person = record()
    profession = dict(person["professions"][0])  # type: ignore[index]
    diploma = {"title": "Master", "date": "2010-06-30"}
    cases = {
        "professions.0.visa_number": {
            **profession,
            "visa_number": "9" * (VISA_NUMBER_MAX_CHARS + 1),
        },
        "professions.0.diplomas.0.title": {**profession, "diplomas": [{"title": "Mas\x1bter"}]},
        "professions.0.diplomas": {**profession, "diplomas": [diploma] * (MAX_DIPLOMAS + 1)},
    }
    for field, changed in cases.items():
        found = errors_of(record(professions=[changed]))
        assert len(found) == 1 and found[0].startswith(f"line 7, field {field}: "), found
    many = errors_of(record(professions=[profession] * (MAX_PROFESSIONS + 1)))
    assert many == [
        f"line 7, field professions: Tuple should have at most {MAX_PROFESSIONS} items after "
        f"validation, not {MAX_PROFESSIONS + 1}"
    ]


def test_a_bad_visa_status_is_one_error_not_also_an_empty_profession_list() -> None:
    person = record()
    profession = {**person["professions"][0], "visa_status": "bogus"}  # type: ignore[index]
    assert errors_of(record(professions=[profession])) == [
        "line 7, field professions.0.visa_status: Input should be 'active' or 'inactive'"
    ]
    assert errors_of(record(professions=[])) == [
        "line 7, field professions: at least one profession is required"
    ]


def test_control_characters_are_every_category_cc() -> None:
    # NUL, TAB, DEL and the C1 range alike.
    for code in (0x00, 0x09, 0x7F, 0x85, 0x9F):
        assert unicodedata.category(chr(code)) == "Cc"
        found = errors_of(record(first_name=f"A{chr(code)}b"))
        assert found and "control character" in found[0], code


def test_exactly_the_control_separator_and_surrogate_characters_are_refused() -> None:
    from registry_sync.domain.source_limits import Name

    name = TypeAdapter(Name)
    refused = {"Cc", "Cs", "Zl", "Zp"}
    wrong = []
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        try:
            name.validate_python(f"A{character}b")
            accepted = True
        except ValidationError:
            accepted = False
        if accepted == (unicodedata.category(character) in refused):
            wrong.append(f"U+{code:04X}")
    assert wrong == []
