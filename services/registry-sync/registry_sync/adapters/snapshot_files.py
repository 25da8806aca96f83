"""Reading snapshot files line by line (JSON Lines, optionally gzip), never whole."""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import ValidationError

from registry_sync.adapters.csv_snapshot import read_csv_records
from registry_sync.domain.identifiers import is_valid_ssin
from registry_sync.domain.source_limits import MAX_LINE_BYTES
from registry_sync.domain.source_record import SourceProfessional
from servicekit.readable_patterns import pattern_refusal

#: What reading past a line's limit reads at a time, to skip the rest of that line.
_SKIP_CHUNK = 64 * 1024


class SnapshotUnreadable(Exception):
    """The file cannot be read to its end (truncated gzip, not UTF-8 text, broken CSV)."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        """The last line read completely before the problem."""
        self.problem = problem


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
        message = pattern_refusal(detail) or detail["msg"].removeprefix("Value error, ")
        found.append(LineError(line, field, message))
    return tuple(found)


def is_csv(path: Path) -> bool:
    """CSV by its name (`.csv` or `.csv.gz`); anything else is read as JSON Lines."""
    return path.name.lower().removesuffix(".gz").endswith(".csv")


class SourceLine:
    """One person's line as read, not yet parsed: its bytes identify it unparsed.

    `raw` is what the line digest is computed over: the JSON line without its line ending,
    or for CSV the person's rows as one canonical JSON object. It is None for a line
    that cannot be parsed at all (too long, a broken CSV row): those always go the full
    path, so they are reported.
    """

    __slots__ = ("_error", "_record", "line", "raw")

    def __init__(
        self,
        line: int,
        raw: bytes | None,
        *,
        record: dict[str, Any] | None = None,
        error: LineError | None = None,
    ) -> None:
        self.line = line
        self.raw = raw
        self._record = record
        self._error = error

    def parse(self) -> ParsedLine:
        """Parse and validate the line (the full path)."""
        if self._error is not None:
            return ParsedLine(self.line, None, (self._error,), ssin=_ssin_of(self._record))
        if self._record is not None:
            return parse_record(self.line, self._record)
        assert self.raw is not None
        return parse_line(self.line, self.raw)


def read_snapshot(path: Path, *, position: list[int] | None = None) -> Iterator[ParsedLine]:
    """Yield every record parsed and validated; errors are yielded, not raised.

    See `read_source_lines`, whose lines this parses one by one.
    """
    for source_line in read_source_lines(path, position=position):
        yield source_line.parse()


def read_source_lines(path: Path, *, position: list[int] | None = None) -> Iterator[SourceLine]:
    """Yield every person's line, read but not parsed (`SourceLine.parse` validates it).

    JSON Lines (one person a line) or CSV (one row per person and profession, see
    `csv_snapshot`), each optionally gzip-compressed. `position`, when given, is a
    one-element list updated every few lines with the bytes read so far of the
    underlying file (compressed bytes for gzip), for a progress bar.

    A line longer than MAX_LINE_BYTES is yielded as an invalid line without being kept
    in memory. Raises SnapshotUnreadable when the file cannot be read to its end.
    """
    for number, raw, source_line in read_raw_lines(path, position=position):
        yield source_line or SourceLine(number, raw)


RawLine = tuple[int, bytes | None, SourceLine | None]
"""`(number, raw, source_line)`: see `read_raw_lines`."""


def read_raw_lines(
    path: Path,
    *,
    position: list[int] | None = None,
    stretch: tuple[int, int | None, int] = (0, None, 1),
) -> Generator[RawLine, None, None]:
    """`read_source_lines` without an object per line: `(number, raw, source_line)`.

    `source_line` is None for a plain JSON line (`SourceLine(number, raw)` is that line,
    to build only when it must be parsed); otherwise (CSV, an invalid line) it is the
    line itself. An unchanged re-import reads every line and parses none of them, so
    what reading costs per line is most of what it costs.

    `stretch` `(start, end, first)` reads a plain JSON Lines file from byte `start` (a
    line's start) to byte `end` (a line's start, or None for the end of the file), the
    first line numbered `first`: the check pass reads a file's halves apart.
    """
    last_line = 0
    start, end, first = stretch
    with path.open("rb") as raw:
        stream = _reader(raw) if stretch == (0, None, 1) else _plain_stretch(path, raw, start, end)
        try:
            if is_csv(path):
                for number, record, problem in read_csv_records(_csv_lines(stream)):
                    last_line = number
                    if position is not None:
                        position[0] = raw.tell()
                    if problem is not None or record is None:
                        error = LineError(number, "(row)", problem or "unreadable row")
                        yield number, None, SourceLine(number, None, record=record, error=error)
                        continue
                    encoded = orjson.dumps(record)
                    yield number, encoded, SourceLine(number, encoded, record=record)
                return
            # `bounded_lines`, inlined: one generator a line less.
            readline = stream.readline
            limit = MAX_LINE_BYTES + 1
            number = first - 1
            while line := readline(limit):
                number += 1
                last_line = number
                # Every 64 lines is plenty for a progress bar: asking the file where it is
                # was the largest single cost of reading an unchanged snapshot.
                if position is not None and number % 64 == 1:
                    position[0] = raw.tell()
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    _skip_rest_of_line(stream)
                    yield number, None, SourceLine(number, None, error=_too_long(number))
                    continue
                text = line.rstrip(b"\r\n")
                # Blank lines are skipped (`isspace` stops at the first other byte; the
                # `strip` it replaces copied every line).
                if text and not text.isspace():
                    yield number, text, None
        except (EOFError, gzip.BadGzipFile, zlib.error, UnicodeDecodeError, csv.Error) as error:
            raise _unreadable(error, last_line) from None


def _unreadable(error: Exception, last_line: int) -> SnapshotUnreadable:
    """What stopped reading a file after `last_line`, said for the person importing it."""
    if isinstance(error, UnicodeDecodeError):
        return SnapshotUnreadable(
            last_line, f"not UTF-8 text after line {last_line} ({error.reason})"
        )
    if isinstance(error, csv.Error):
        return SnapshotUnreadable(
            last_line, f"not readable as CSV after line {last_line} ({error})"
        )
    return SnapshotUnreadable(
        last_line,
        f"the gzip data is truncated or damaged after line {last_line} ({error}); "
        "the file was probably cut off while it was copied",
    )


def _too_long(number: int) -> LineError:
    return LineError(
        number,
        "(line)",
        f"longer than {MAX_LINE_BYTES:,} bytes, the most one professional's line may hold; "
        "it was not read. Ask the source for a corrected export",
    )


def bounded_lines(
    stream: IO[bytes], max_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes | None]]:
    """`(number, line)` for each line; `line` is None for one longer than `max_bytes`.

    A line is never read whole past `max_bytes` (plus its newline): the rest of an
    oversized line is read in small chunks and dropped.
    """
    number = 0
    while line := stream.readline(max_bytes + 1):
        number += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            _skip_rest_of_line(stream)
            yield number, None
            continue
        yield number, line


def _skip_rest_of_line(stream: IO[bytes]) -> None:
    """Read past the end of an oversized line, a small chunk at a time."""
    while (rest := stream.readline(_SKIP_CHUNK)) and not rest.endswith(b"\n"):
        pass


class LineTooLong(csv.Error):
    """A CSV row longer than MAX_LINE_BYTES."""


def _csv_lines(stream: IO[bytes]) -> Iterator[str]:
    # The csv module would read a line of any length whole: lines are bounded here, and a
    # row longer than the limit refuses the file (the rows of one person belong together,
    # so the reader cannot skip one and go on).
    for number, line in bounded_lines(stream):
        if line is None:
            raise LineTooLong(f"line {number} is {_too_long(number).problem}")
        yield line.decode("utf-8")


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


class _UpTo(io.RawIOBase):
    """A file read from where it stands up to byte `end` only."""

    def __init__(self, file: IO[bytes], end: int) -> None:
        self._file = file
        self._left = end - file.tell()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._left)
        if size <= 0:
            return 0
        with memoryview(buffer) as view:
            read = self._file.readinto(view[:size])  # type: ignore[attr-defined]
        self._left -= read
        return int(read)


def _plain_stretch(path: Path, raw: IO[bytes], start: int, end: int | None) -> IO[bytes]:
    """`raw` (a plain JSON Lines file) from byte `start`, up to byte `end` when given."""
    if is_csv(path) or raw.read(2) == b"\x1f\x8b":
        raise ValueError("only a plain JSON Lines file can be read a stretch at a time")
    raw.seek(start)
    if end is None:
        return raw
    return io.BufferedReader(_UpTo(raw, end), buffer_size=2**20)


def _reader(raw: IO[bytes]) -> IO[bytes]:
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw
