"""Reading a snapshot's lines for the digest check: raw bytes, blank lines skipped.

`read_raw_lines` is the loop an unchanged re-import spends its time in, so it yields
tuples instead of an object per line; it must yield exactly the lines, numbers and
errors `read_source_lines` (its objects) does, and the keyed line digest computed from
a copied keyed state must equal the keyed blake2b it replaced.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from registry_sync.adapters.snapshot_files import read_raw_lines, read_source_lines
from registry_sync.domain.pseudonyms import LINE_RULES_VERSION, NrnHasher
from registry_sync.domain.source_limits import MAX_LINE_BYTES

KEY = "a-test-key-of-enough-length"


def test_blank_and_whitespace_lines_are_skipped_and_line_endings_dropped(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b'{"a": 1}\r\n\n   \t \n\r\n  {"b": 2}  \n{"c": 3}')

    lines = list(read_raw_lines(path))

    assert lines == [(1, b'{"a": 1}', None), (5, b'  {"b": 2}  ', None), (6, b'{"c": 3}', None)]


def test_raw_lines_are_the_source_lines_without_their_objects(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl.gz"
    too_long = b'{"x": "' + b"y" * MAX_LINE_BYTES + b'"}\n'
    path.write_bytes(gzip.compress(b'{"a": 1}\n' + too_long + b"\n" + b'{"b": 2}\n'))

    raw = list(read_raw_lines(path))
    source = list(read_source_lines(path))

    assert [(number, text) for number, text, _ in raw] == [
        (1, b'{"a": 1}'),
        (2, None),
        (4, b'{"b": 2}'),
    ]
    assert [(line.line, line.raw) for line in source] == [
        (1, b'{"a": 1}'),
        (2, None),
        (4, b'{"b": 2}'),
    ]
    too_long_line = raw[1][2]
    assert too_long_line is not None
    assert too_long_line.parse().errors[0].problem.startswith(f"longer than {MAX_LINE_BYTES:,}")
    assert source[1].parse().errors == too_long_line.parse().errors


def test_a_csv_person_is_one_raw_line_with_the_record_it_came_from(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "ssin,last_name,first_name,version,profession\n"
        "85073003328,Peeters,An,2026-11-27T22:00:00Z,nurse\n"
    )

    [(number, raw, source_line)] = list(read_raw_lines(path))
    [expected] = list(read_source_lines(path))

    assert source_line is not None
    assert (number, raw) == (expected.line, expected.raw)
    assert raw is not None and b"Peeters" in raw
    assert source_line.parse() == expected.parse()


def test_the_line_digest_is_the_keyed_blake2b_of_the_line() -> None:
    hasher = NrnHasher(KEY)
    line_key = hashlib.blake2b(
        KEY.encode(), digest_size=32, person=b"line-digest", salt=LINE_RULES_VERSION[:16]
    ).digest()
    line = b'{"ssin": "85073003328", "last_name": "Peeters"}'

    expected = hashlib.blake2b(line, digest_size=16, key=line_key).digest()

    assert hasher.line_digest(line) == expected
    state = hasher.line_hasher()()
    state.update(line)
    assert state.digest() == expected
    # A fresh state per call: a second line is not hashed after the first.
    assert (
        hasher.line_digest(b"other")
        == hashlib.blake2b(b"other", digest_size=16, key=line_key).digest()
    )
    assert hasher.line_digest(line) == expected
    assert NrnHasher(KEY + "x").line_digest(line) != expected


def test_a_line_hashed_ahead_is_read_again_by_number_or_the_file_is_refused_as_changed(
    tmp_path: Path,
) -> None:
    # The check pass reads a changed line again when it was hashed before the stored
    # index arrived; a file cut short since then is unreadable, not silently skipped.
    from registry_sync.adapters.snapshot_files import SnapshotUnreadable
    from registry_sync.handlers.snapshot_check import _read_up_to

    path = tmp_path / "lines.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"b": 2}\n{"c": 3}\n')
    again = read_raw_lines(path)

    assert _read_up_to(again, 3).raw == b'{"b": 2}'
    assert _read_up_to(again, 4).raw == b'{"c": 3}'
    with pytest.raises(SnapshotUnreadable) as refused:
        _read_up_to(again, 7)
    assert refused.value.problem == "line 7 was not found again: the file changed"
