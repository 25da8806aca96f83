"""Reading the CSV form of a snapshot: one row per (person, profession).

The rows of one person must be adjacent, as the source's exports write them: the reader
streams and groups consecutive rows with the same `ssin` into one record, so memory does
not grow with the file. A person whose rows are not adjacent shows up twice, and the
import refuses that as a duplicate ("same person as line N").
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

PERSON_COLUMNS = (
    "ssin",
    "last_name",
    "first_name",
    "gender",
    "birth_date",
    "language",
    "practice_ban",
    "deceased",
    "version",
)
PROFESSION_COLUMNS = (
    "profession",
    "visa_status",
    "visa_number",
    "riziv_number",
    "riziv_status",
    "qualification_code",
    "convention",
)
REQUIRED_COLUMNS = frozenset({"ssin", "last_name", "first_name", "version", "profession"})


class CsvFormatError(ValueError):
    """The CSV header lacks a required column."""


def _value(text: str | None) -> str | None:
    return text if text not in (None, "") else None


def _boolean(text: str | None) -> Any:
    if text is None or text == "":
        return False
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return text  # left for validation to refuse with the field named


def _diplomas(text: str | None) -> list[dict[str, str | None]]:
    diplomas: list[dict[str, str | None]] = []
    for item in (text or "").split(";"):
        if not item.strip():
            continue
        title, _, date = item.partition("|")
        diplomas.append({"title": title.strip(), "date": _value(date.strip())})
    return diplomas


def _profession(row: dict[str, str]) -> dict[str, Any]:
    profession: dict[str, Any] = {name: _value(row.get(name)) for name in PROFESSION_COLUMNS}
    profession["diplomas"] = _diplomas(row.get("diplomas"))
    return {key: value for key, value in profession.items() if value is not None}


def _person(row: dict[str, str]) -> dict[str, Any]:
    person: dict[str, Any] = {name: _value(row.get(name)) for name in PERSON_COLUMNS}
    person["practice_ban"] = _boolean(row.get("practice_ban"))
    person["deceased"] = _boolean(row.get("deceased"))
    return {key: value for key, value in person.items() if value is not None}


def read_csv_records(
    lines: Iterable[str],
) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield `(line, record, problem)` per person: a record dict, or a problem to report.

    `lines` are the file's lines, decoded, with their line endings.
    """
    reader = csv.DictReader(lines)
    missing = REQUIRED_COLUMNS - set(reader.fieldnames or ())
    if missing:
        raise CsvFormatError(
            f"CSV header lacks column(s) {', '.join(sorted(missing))}; the header must name "
            "the fields of SOURCE-FORMAT.md, one row per person and profession"
        )
    current: dict[str, Any] | None = None
    current_line = 0
    conflict: str | None = None
    conflict_line = 0
    for row in reader:
        line = reader.line_num
        person = _person(row)
        if current is not None and person.get("ssin") == current.get("ssin"):
            stored = {k: v for k, v in current.items() if k != "professions"}
            if person != stored and conflict is None:
                changed = sorted(
                    k for k in set(person) | set(stored) if person.get(k) != stored.get(k)
                )
                conflict = f"person fields differ from line {current_line}: {', '.join(changed)}"
                conflict_line = line
            current["professions"].append(_profession(row))
            continue
        if current is not None:
            yield (
                (conflict_line if conflict else current_line),
                (None if conflict else current),
                conflict,
            )
        current = {**person, "professions": [_profession(row)]}
        current_line = line
        conflict = None
    if current is not None:
        yield (
            (conflict_line if conflict else current_line),
            (None if conflict else current),
            conflict,
        )
