"""A snapshot's second half hashed by a second process: the same lines, numbers, digests.

`digest_lines` (run by the child) must number and hash every line exactly as the check
pass reads (`read_raw_lines`) and hashes (`NrnHasher.line_digest`) it, from any line's
start; the halves meet at a line's start, and each half read alone gives what the whole
file read at once does. The child itself is started for real here.
"""

from __future__ import annotations

import asyncio
import gzip
import sys
from pathlib import Path

import pytest

import registry_sync.adapters.line_digests as line_digests
from registry_sync.adapters.line_digests import (
    LineDigests,
    SecondHalf,
    digest_lines,
    line_start_near,
    lines_before,
)
from registry_sync.adapters.snapshot_files import read_raw_lines
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.domain.source_limits import MAX_LINE_BYTES

HASHER = NrnHasher("a-test-key-of-enough-length")
TOO_LONG = b'{"x": "' + b"y" * MAX_LINE_BYTES + b'"}\n'
# Blank and whitespace lines, CRLF endings, a line too long to read, no final newline.
CONTENT = (
    b'{"a": 1}\r\n\n   \t \n{"b": 2}\n'
    + TOO_LONG
    + b'{"c": 3}\r\n\r\n{"d": 4}\n  {"e": 5}  \n\n{"f": 6}'
)


def expected_from(path: Path, start: int = 0) -> list[tuple[int, bytes | None]]:
    """(number, digest) of each line at or after byte `start`, as the check pass reads."""
    with path.open("rb") as stream:
        before = lines_before(stream, start)
    return [
        (number, None if raw is None else HASHER.line_digest(raw))
        for number, raw, _ in read_raw_lines(path)
        if number > before
    ]


def offsets_to_try() -> list[int]:
    """Around every line break, inside the long line, and the file's ends."""
    breaks = [at for at, byte in enumerate(CONTENT) if byte == ord("\n")]
    near = {at + step for at in breaks for step in (-1, 0, 1, 2)}
    inside = CONTENT.index(TOO_LONG) + len(TOO_LONG) // 2
    return sorted(at for at in near | {0, 1, inside, len(CONTENT)} if 0 <= at <= len(CONTENT))


def test_every_line_is_numbered_and_hashed_as_the_check_pass_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(CONTENT)

    with path.open("rb") as stream:
        found = digest_lines(stream, HASHER.line_hasher(), MAX_LINE_BYTES, 1)

    assert list(found.lines()) == expected_from(path)
    assert found.without_digest == {5}


def test_from_any_line_start_the_numbers_go_on_from_the_lines_before_it(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(CONTENT)
    starts = [0] + [at + 1 for at, byte in enumerate(CONTENT) if byte == ord("\n")]

    for start in starts:
        with path.open("rb") as stream:
            first = lines_before(stream, start) + 1
            stream.seek(start)
            found = digest_lines(stream, HASHER.line_hasher(), MAX_LINE_BYTES, first)

        assert found.first == first == CONTENT[:start].count(b"\n") + 1
        assert list(found.lines()) == expected_from(path, start)


def test_the_two_halves_read_apart_are_the_file_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(CONTENT)
    whole = list(read_raw_lines(path))

    for offset in offsets_to_try():
        with path.open("rb") as stream:
            start = line_start_near(stream, offset)
            first = lines_before(stream, start) + 1
        assert start == 0 or CONTENT[start - 1 : start] == b"\n" or start == len(CONTENT)
        assert start >= offset
        halves = list(read_raw_lines(path, stretch=(0, start, 1))) + list(
            read_raw_lines(path, stretch=(start, None, first))
        )
        assert [(n, raw) for n, raw, _ in halves] == [(n, raw) for n, raw, _ in whole]


def test_the_packed_digests_travel_whole_or_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(CONTENT)
    with path.open("rb") as stream:
        found = digest_lines(stream, HASHER.line_hasher(), MAX_LINE_BYTES, 1)

    back = LineDigests.from_bytes(found.to_bytes())

    assert list(back.lines()) == list(found.lines())
    assert (back.without_digest, back.first) == (found.without_digest, found.first)
    with pytest.raises(ValueError):
        LineDigests.from_bytes(found.to_bytes()[:-1])


@pytest.fixture
def split_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file the check pass reads in two halves (every file is, here)."""
    monkeypatch.setattr(line_digests, "SPLIT_MIN_BYTES", 0)
    path = tmp_path / "lines.jsonl"
    path.write_bytes(CONTENT * 3)
    return path


def test_the_child_process_hashes_the_second_half(split_file: Path) -> None:
    path = split_file

    second = SecondHalf.begin(path, HASHER.line_key, MAX_LINE_BYTES)

    assert second is not None
    assert 0 < second.start < len(CONTENT * 3)
    found = asyncio.run(second.digests())
    assert found is not None
    assert list(found.lines()) == expected_from(path, second.start)
    second.cancel()  # after the child has exited: nothing to do


def test_a_small_or_compressed_file_is_read_by_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = tmp_path / "small.jsonl"
    small.write_bytes(CONTENT)
    assert SecondHalf.begin(small, HASHER.line_key, MAX_LINE_BYTES) is None

    monkeypatch.setattr(line_digests, "SPLIT_MIN_BYTES", 0)
    compressed = tmp_path / "lines.jsonl.gz"
    compressed.write_bytes(gzip.compress(CONTENT))
    assert SecondHalf.begin(compressed, HASHER.line_key, MAX_LINE_BYTES) is None
    one_line = tmp_path / "one.jsonl"
    one_line.write_bytes(b'{"a": 1}')
    assert SecondHalf.begin(one_line, HASHER.line_key, MAX_LINE_BYTES) is None


FAILING_CHILDREN = {
    "exits with an error": "import sys; sys.stdin.buffer.read(); sys.exit(3)",
    "writes what is not digests": "import sys; sys.stdin.buffer.read(); print('digests')",
}


@pytest.mark.parametrize("failure", FAILING_CHILDREN)
def test_a_child_that_fails_gives_nothing(
    split_file: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    command = [sys.executable, "-c", FAILING_CHILDREN[failure]]
    monkeypatch.setattr(line_digests, "child_command", lambda: command)

    failing = SecondHalf.begin(split_file, HASHER.line_key, MAX_LINE_BYTES)

    assert failing is not None
    assert asyncio.run(failing.digests()) is None


def test_a_child_stopped_early_is_waited_for(split_file: Path) -> None:
    stopped = SecondHalf.begin(split_file, HASHER.line_key, MAX_LINE_BYTES)
    assert stopped is not None
    stopped.cancel()

    assert stopped._child.returncode is not None
