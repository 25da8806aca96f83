"""Reading snapshot files line by line (JSON Lines, optionally gzip), never whole."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import ValidationError

from registry_sync.adapters.csv_snapshot import read_csv_records
from registry_sync.domain.identifiers import is_valid_ssin
from registry_sync.domain.source_record import SourceProfessional


@dataclass(frozen=True)
class LineError:
    """One invalid line: where, which field, what is wrong (never the value itself)."""

    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}, field {self.field}: {self.problem}"


@dataclass(frozen=True)
class ParsedLine:
    """A line and what it held: a record, or the errors that reject it."""

    line: int
    record: SourceProfessional | None
    errors: tuple[LineError, ...] = ()
    ssin: str | None = field(default=None, repr=False)
    """For an invalid line: its national register number, when that field is valid."""


def _field_errors(line: int, error: ValidationError) -> tuple[LineError, ...]:
    found = []
    for detail in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in detail["loc"]) or "(line)"
        found.append(LineError(line, field, detail["msg"]))
    return tuple(found)


def is_csv(path: Path) -> bool:
    """CSV by its name (`.csv` or `.csv.gz`); anything else is read as JSON Lines."""
    return path.name.lower().removesuffix(".gz").endswith(".csv")


def read_snapshot(path: Path, *, position: list[int] | None = None) -> Iterator[ParsedLine]:
    """Yield every record parsed and validated; errors are yielded, not raised.

    JSON Lines (one person a line) or CSV (one row per person and profession, see
    `csv_snapshot`), each optionally gzip-compressed. `position`, when given, is a
    one-element list updated with the bytes read so far of the underlying file
    (compressed bytes for gzip), for a progress bar.
    """
    with path.open("rb") as raw:
        stream = _reader(raw)
        if is_csv(path):
            for number, record, problem in read_csv_records(stream):
                if position is not None:
                    position[0] = raw.tell()
                if problem is not None or record is None:
                    error = LineError(number, "(row)", problem or "unreadable row")
                    yield ParsedLine(number, None, (error,), ssin=_ssin_of(record))
                    continue
                yield parse_record(number, record)
            return
        for number, line in enumerate(stream, start=1):
            if position is not None:
                position[0] = raw.tell()
            if line.strip():
                yield parse_line(number, line)


def parse_record(number: int, data: dict[str, Any]) -> ParsedLine:
    """Validate one record already read into a dict (CSV, delta feed)."""
    try:
        return ParsedLine(number, SourceProfessional.model_validate(data))
    except ValidationError as error:
        return ParsedLine(number, None, _field_errors(number, error), ssin=_ssin_of(data))


def _ssin_of(data: Any) -> str | None:
    # Who an invalid line is about, when that much is readable: lenient runs must not
    # mistake a rejected person for one who left the source.
    if isinstance(data, dict):
        value = data.get("ssin")
        if isinstance(value, str) and is_valid_ssin(value):
            return value
    return None


def parse_line(number: int, line: bytes) -> ParsedLine:
    """Parse and validate one JSON line of the source format."""
    try:
        # Parsing and validating in one step (pydantic-core) is twice as fast as loading
        # the JSON first; the slow path below only runs for a line that fails.
        return ParsedLine(number, SourceProfessional.model_validate_json(line))
    except ValidationError as error:
        if error.errors()[0]["type"] != "json_invalid":
            return ParsedLine(
                number, None, _field_errors(number, error), ssin=_ssin_of(_loads(line))
            )
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as json_error:
        problem = f"not valid JSON: {json_error}"
    else:
        problem = "expected a JSON object" if not isinstance(data, dict) else "not valid JSON"
    return ParsedLine(number, None, (LineError(number, "(line)", problem),))


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return None


def _reader(raw: IO[bytes]) -> IO[bytes]:
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw
