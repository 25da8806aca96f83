"""The line digests of a snapshot's second half, computed by a second process.

An unchanged re-import is mostly reading and hashing every line (0.55 s for 500,000
lines on one core of the reference machine) while the machine's other core has little to
do. For a large plain JSON Lines file the check pass therefore starts this module as a
child process on the second half of the file while it reads the first half itself
(`SecondHalf`). The child hashes each line exactly as `read_raw_lines` reads it and
`NrnHasher.line_digest` hashes it, and sends back each line's number and digest, packed.
The check pass then looks those digests up as it does for lines hashed before the stored
index arrived, and parses only the lines whose digest is not stored.

The child imports nothing but the standard library (it starts in about 30 ms) and gets
its job on stdin, so the line key never appears in a command line. Anything wrong with it
(it cannot start, it fails, it is killed) costs time, not correctness: the check pass then
reads the second half itself.

    python -m registry_sync.adapters.line_digests < job.json > digests.bin
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

#: Below this size a second process is not worth its start (about 30,000 lines).
SPLIT_MIN_BYTES = 16 * 2**20
#: The longest a child may take before the check pass reads its half itself.
CHILD_TIMEOUT_S = 600.0
_COUNT_CHUNK = 2**20
_REPLAY_BLOCK = 10_000
_DIGEST = 16
_NUMBER = array("q").itemsize
_log = logging.getLogger(__name__)


@dataclass
class LineDigests:
    """Lines hashed but not yet looked up: their numbers and digests, packed (a tuple per
    line held the command's peak RSS 33 MB higher at 500,000 people). The check pass
    keeps the lines it hashes before the stored index arrives so; the child sends its
    half so."""

    numbers: array[int] = field(default_factory=lambda: array("q"))
    digests: bytearray = field(default_factory=bytearray)
    """16 bytes per line, in the order of `numbers` (zeros for a line without a digest)."""
    without_digest: set[int] = field(default_factory=set)
    """Lines that could not be read (too long, a broken CSV row): always parsed."""
    first: int = 1
    """The number of the stretch's first line (blank or not): where a second reader of
    the same stretch starts counting."""

    def lines(self) -> Iterator[tuple[int, bytes | None]]:
        """`(number, digest)` in line order (digest None for a line without one). Sliced
        a block at a time: all at once, the digests of 276,000 lines held the command's
        peak RSS 22 MB higher."""
        packed = bytes(self.digests)
        for first in range(0, len(self.numbers), _REPLAY_BLOCK):
            numbers = self.numbers[first : first + _REPLAY_BLOCK]
            digests: list[bytes | None] = [
                packed[start : start + _DIGEST]
                for start in range(first * _DIGEST, (first + len(numbers)) * _DIGEST, _DIGEST)
            ]
            if self.without_digest:
                for at, number in enumerate(numbers):
                    if number in self.without_digest:
                        digests[at] = None
            yield from zip(numbers, digests, strict=True)

    def to_bytes(self) -> bytes:
        without = array("q", sorted(self.without_digest))
        header = array("q", [len(self.numbers), len(without), self.first])
        return header.tobytes() + self.numbers.tobytes() + without.tobytes() + self.digests

    @classmethod
    def from_bytes(cls, packed: bytes) -> LineDigests:
        view = memoryview(packed)
        header = array("q")
        header.frombytes(view[: 3 * _NUMBER])
        lines, without, first = header
        start = 3 * _NUMBER
        numbers = array("q")
        numbers.frombytes(view[start : start + lines * _NUMBER])
        start += lines * _NUMBER
        without_numbers = array("q")
        without_numbers.frombytes(view[start : start + without * _NUMBER])
        start += without * _NUMBER
        digests = bytearray(view[start:])
        if len(digests) != lines * _DIGEST:
            raise ValueError(f"{len(digests)} bytes of digests for {lines} lines")
        return cls(numbers, digests, set(without_numbers), first)


def lines_before(stream: IO[bytes], offset: int) -> int:
    """How many lines end before byte `offset` (at a line's start) of a file."""
    stream.seek(0)
    count, left = 0, offset
    while left > 0 and (chunk := stream.read(min(_COUNT_CHUNK, left))):
        count += chunk.count(b"\n")
        left -= len(chunk)
    return count


def line_start_near(stream: IO[bytes], offset: int) -> int:
    """The offset of the first line starting at or after `offset` (the file's size if
    none does). A line is read in bounded pieces, never whole."""
    if offset <= 0:
        return 0
    stream.seek(offset - 1)
    while (piece := stream.readline(_COUNT_CHUNK)) and not piece.endswith(b"\n"):
        pass
    return stream.tell()


def digest_lines(
    stream: IO[bytes], new_state: Callable[[], hashlib.blake2b], max_bytes: int, first: int
) -> LineDigests:
    """Number and digest every line from the stream's position to its end, the first one
    numbered `first`: the rules of `snapshot_files.read_raw_lines` for JSON Lines (the
    line ending is not hashed; a blank line is skipped but counted; a line longer than
    `max_bytes` is not read whole and has no digest)."""
    found = LineDigests(first=first)
    numbers, digests = found.numbers, found.digests
    readline = stream.readline
    limit = max_bytes + 1
    number = first - 1
    blank = bytes(_DIGEST)
    while line := readline(limit):
        number += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while (rest := readline(64 * 1024)) and not rest.endswith(b"\n"):
                pass
            numbers.append(number)
            digests += blank
            found.without_digest.add(number)
            continue
        text = line.rstrip(b"\r\n")
        if text and not text.isspace():
            state = new_state()
            state.update(text)
            numbers.append(number)
            digests += state.digest()
    return found


def _run_job(job: dict[str, object]) -> bytes:
    """The child's work: the job read from stdin, the packed result to write."""
    path = str(job["path"])
    start = int(str(job["start"]))
    line_state = hashlib.blake2b(digest_size=_DIGEST, key=bytes.fromhex(str(job["key"])))
    with open(path, "rb", buffering=2**20) as stream:
        first = lines_before(stream, start) + 1
        stream.seek(start)
        found = digest_lines(stream, line_state.copy, int(str(job["max_line_bytes"])), first)
    return found.to_bytes()


def child_command() -> list[str]:
    """How the child is started: this module, by the interpreter running the check pass."""
    return [sys.executable, "-m", __name__]


class SecondHalf:
    """The child process hashing a file's second half, started before the first is read."""

    def __init__(self, start: int, child: subprocess.Popen[bytes]) -> None:
        self.start = start
        """Byte offset where the second half begins (a line's start)."""
        self._child = child

    @classmethod
    def begin(cls, path: Path, line_key: bytes, max_line_bytes: int) -> SecondHalf | None:
        """Start hashing the second half of `path` elsewhere; None when not worth it or
        the child cannot start (then the caller reads the whole file itself)."""
        try:
            with path.open("rb") as stream:
                size = os.fstat(stream.fileno()).st_size
                if size < SPLIT_MIN_BYTES or stream.read(2) == b"\x1f\x8b":  # gzip: no seeking
                    return None
                start = line_start_near(stream, size // 2)
            if start >= size:
                return None
            child = subprocess.Popen(
                child_command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None
        job = {
            "path": str(path),
            "start": start,
            "key": line_key.hex(),
            "max_line_bytes": max_line_bytes,
        }
        assert child.stdin is not None
        try:
            child.stdin.write(json.dumps(job).encode())
            child.stdin.close()
        except OSError:
            child.kill()
            child.wait()
            return None
        return cls(start, child)

    async def digests(self) -> LineDigests | None:
        """What the child found; None when it failed (the caller then reads that half)."""
        # Imported here: the child imports this module, and needs neither.
        import asyncio

        from servicekit.waiting import within

        try:
            out = await within(asyncio.to_thread(self._collect), CHILD_TIMEOUT_S)
        except TimeoutError:
            self.cancel()
            _log.warning(
                "hashing the second half took over %.0f s; the import reads it itself "
                "(slower, same result)",
                CHILD_TIMEOUT_S,
            )
            return None
        if self._child.returncode != 0:
            _log.warning(
                "the process hashing the second half exited with %s; the import reads that "
                "half itself (slower, same result). If it recurs, check that `python -m "
                "registry_sync.adapters.line_digests` runs in this image",
                self._child.returncode,
            )
            return None
        try:
            return LineDigests.from_bytes(out)
        except ValueError as error:
            _log.warning(
                "the second half's digests were unreadable (%s); the import reads that "
                "half itself (slower, same result)",
                error,
            )
            return None

    def _collect(self) -> bytes:
        """The child's whole output, once it has exited (in a thread)."""
        assert self._child.stdout is not None
        out = self._child.stdout.read()
        self._child.wait()
        return out

    def cancel(self) -> None:
        """Stop the child if it still runs (the check pass ended early) and wait for it."""
        if self._child.returncode is not None:
            return  # waited for already
        self._child.kill()  # a thread reading its output then reads the end
        self._child.wait()


def main() -> None:
    job = json.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(_run_job(job))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
