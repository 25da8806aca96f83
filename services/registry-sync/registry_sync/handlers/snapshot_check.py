"""The check pass of a snapshot import: every line read once, only changed lines parsed.

Before anything is parsed, each line's keyed digest is looked up among the digests of
the stored state (`StoredIndex`, read once). A line whose digest is stored is exactly the
line the stored state came from: it is counted unchanged and never parsed. Every other
line takes the full path: validated, hashed, checked for repeats, compared with its
stored state (to count who would stop practising) and kept in a `ChangeSpool` for the
apply pass. Nothing is written to the database here.
"""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, islice
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry_sync.adapters import tables
from registry_sync.adapters.change_spool import ChangeSpool
from registry_sync.adapters.line_digests import LineDigests, SecondHalf, lines_before
from registry_sync.adapters.snapshot_files import (
    LineError,
    ParsedLine,
    RawLine,
    SnapshotUnreadable,
    SourceLine,
    is_csv,
    read_raw_lines,
)
from registry_sync.domain.changes import ProfessionalFacts
from registry_sync.domain.person_change import PersonChange
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.domain.source_limits import MAX_LINE_BYTES
from registry_sync.handlers.apply_records import known_by_hash
from servicekit.database import as_utc

ProgressCallback = Callable[[str, int, int], None]
"""`(phase, bytes_done, bytes_total)`; phase is `checking` or `applying`."""

_INDEX_BATCH = 10_000


def person_key(nrn_hash: str) -> bytes:
    """16 bytes of the keyed hash: they identify a person well enough, and sets stay small."""
    return bytes.fromhex(nrn_hash[:32])


_KEY = 16
"""Bytes of a person key and of a line digest."""
_PAIR_BITS = 5
_PAIR = 1 << _PAIR_BITS
"""A digest and its key take 32 = 2 ** 5 bytes of `StoredIndex.digested`."""


@dataclass
class StoredIndex:
    """Who is in the source as far as registry-sync knows, read once per import.

    Each known person has a position: first the people with a stored line digest, then
    those without one. A line is looked up by its digest alone; a person's key is needed
    only for a line that must be parsed. Both lookup tables are built the first time they
    are needed: the digest table only when a line is not where the stored order expects
    it (`CheckResult.expected_at`), the key table only when a line must be parsed. An
    unchanged re-import in the stored order builds neither.
    """

    digested: bytes = b""
    """Each position with a digest as 32 bytes, in position order: the digest, then the
    person key."""
    undigested_keys: bytes = b""
    """The keys of people stored without a digest (delta-feed changes, older imports),
    16 bytes each, at the positions after those with one."""
    _position_of_digest: dict[bytes, int] | None = field(default=None, repr=False)
    _position_of_key: dict[bytes, int] | None = field(default=None, repr=False)

    @property
    def known(self) -> int:
        """People in the source (not removed)."""
        return self.with_digest + len(self.undigested_keys) // _KEY

    @property
    def with_digest(self) -> int:
        """People with a stored line digest: positions 0 to this, exclusive."""
        return len(self.digested) // (2 * _KEY)

    @property
    def position_of_digest(self) -> dict[bytes, int]:
        """Line digest -> position, for people with a stored digest (built on first use:
        0.17 s of CPU at 500,000 people)."""
        if self._position_of_digest is None:
            pairs = self.digested
            digests = [pairs[start : start + _KEY] for start in range(0, len(pairs), 2 * _KEY)]
            self._position_of_digest = dict(
                zip(digests, self._positions(len(digests)), strict=True)
            )
        return self._position_of_digest

    def person_keys(self) -> list[bytes]:
        """Every known person's key, by position."""
        pairs, keys = self.digested, self.undigested_keys
        return [pairs[start : start + _KEY] for start in range(_KEY, len(pairs), 2 * _KEY)] + [
            keys[start : start + _KEY] for start in range(0, len(keys), _KEY)
        ]

    def position_of_key(self, key: bytes) -> int | None:
        """The position of a known person, None for someone the source never named."""
        if self._position_of_key is None:
            self._position_of_key = dict(
                zip(self.person_keys(), self._positions(self.known), strict=True)
            )
        return self._position_of_key.get(key)

    def _positions(self, count: int) -> Iterator[int]:
        """0 to `count`, as the int objects the other table already holds where it is built
        (both tables list positions in insertion order): 500,000 new ones would be 14 MB."""
        built = self._position_of_key or self._position_of_digest or {}
        shared = islice(built.values(), count)
        return chain(shared, range(min(len(built), count), count))


# Each stored person with a digest as 32 bytes, all of them in one value: their line digest
# (16 bytes) then their person key (the first 16 bytes of their keyed hash); people without
# a digest as their key alone, in a second value. Two values instead of a row object per
# person: read as rows, the index was nearly half of an unchanged re-import's run
# (benchmarks.md). PostgreSQL sends them as bytea (16 MB at 500,000 people); SQLite's
# group_concat makes text, so there they travel as hex. One scan, no order.
_INDEX_SQL = {
    "postgresql": """
        SELECT string_agg(line_digest || decode(substr(nrn_hash, 1, 32), 'hex'), ''::bytea)
                   FILTER (WHERE line_digest IS NOT NULL),
               string_agg(decode(substr(nrn_hash, 1, 32), 'hex'), ''::bytea)
                   FILTER (WHERE line_digest IS NULL)
        FROM professionals WHERE NOT removed
    """,
    "sqlite": """
        SELECT group_concat(hex(line_digest) || substr(nrn_hash, 1, 32), '')
                   FILTER (WHERE line_digest IS NOT NULL),
               group_concat(substr(nrn_hash, 1, 32), '') FILTER (WHERE line_digest IS NULL)
        FROM professionals WHERE NOT removed
    """,
}


def _as_bytes(value: bytes | str | None) -> bytes:
    if value is None:
        return b""
    return bytes.fromhex(value) if isinstance(value, str) else bytes(value)


async def load_stored_index(sessions: async_sessionmaker[AsyncSession]) -> StoredIndex:
    """Line digests and keys of everyone in the source (two narrow values, no facts)."""
    async with sessions() as session:
        sql = sa.text(_INDEX_SQL[session.get_bind().dialect.name])
        pairs, undigested = (await session.execute(sql)).one()
    return StoredIndex(digested=_as_bytes(pairs), undigested_keys=_as_bytes(undigested))


@dataclass
class CheckResult:
    """What the check pass found; the spool holds the changes to apply."""

    spool: ChangeSpool
    index: StoredIndex = field(default_factory=StoredIndex)
    unchanged: int = 0
    """Lines skipped unparsed: their digest is stored."""
    records: int = 0
    """Valid lines, skipped or not."""
    invalid_lines: int = 0
    errors: list[LineError] = field(default_factory=list)
    deactivated: int = 0
    identifiable: bool = True
    """Every rejected line named a valid person: removals can be computed safely."""
    first_line: array[int] = field(default_factory=lambda: array("l"))
    """By the index's position: the first line naming that known person, 0 for none yet.
    An array indexed by position, not a dict by key: filling a 500,000-entry dict was
    about a sixth of the check pass of an unchanged re-import (and an array holds no
    int object per line). Sized by `know`."""
    first_line_of_new: dict[bytes, int] = field(default_factory=dict)
    """Person key -> first line naming them, for people the index does not know."""
    expected_at: int = 0
    """Byte offset in `index.digested` of the position the next line is expected at.

    The stored index comes in the order its rows lie in the table, which is about the
    order of the file that inserted them (PostgreSQL's heap and SQLite's rowids keep it
    until rows are updated; at 500,000 generated people, 98% of an unchanged file's lines
    follow the previous one's position). Each line's digest is first compared there, 16
    bytes in place, then looked up in the digest table (built then: 0.17 s at 500,000
    people; a lookup costs a hash and three cache misses, 0.4 µs a line), and the next
    line is expected after where it was found. Nothing depends on the order but speed.
    The two loops of the check pass inline this rule (a call per line would cost a fifth
    of what it saves)."""

    def know(self, index: StoredIndex) -> None:
        """Check against this stored index (read while the first lines were hashed)."""
        self.index = index
        self.first_line = array("l", [0]) * index.known

    def claim(self, key: bytes, line: int) -> LineError | None:
        """Note that `line` names this person; an error if an earlier line did."""
        position = self.index.position_of_key(key)
        if position is None:
            first = self.first_line_of_new.setdefault(key, line)
        else:
            first = self.first_line[position] or line
            self.first_line[position] = first
        if first != line:
            return LineError(line, "ssin", f"same person as line {first}")
        return None

    def names(self, key: bytes) -> bool:
        """Whether a line of the file names this person."""
        position = self.index.position_of_key(key)
        if position is None:
            return key in self.first_line_of_new
        return self.first_line[position] != 0

    def missing(self) -> int:
        """How many known people no line of the file names (a count in C, over the array)."""
        return self.first_line.count(0)

    def release(self) -> None:
        """Drop what only the check pass needs, before the apply pass."""
        self.first_line = array("l")
        self.first_line_of_new = {}
        self.index = StoredIndex()


#: Lines between two looks at whether the stored index has arrived (and progress reports).
POLL_LINES = 2_000
#: Most lines hashed ahead of the stored index (24 bytes each); then the check waits for it.
EARLY_LINES = 500_000


@dataclass
class SnapshotChecker:
    """Runs the check pass over one file.

    The stored index is read by the database while the first lines are hashed: on
    PostgreSQL its aggregate takes about 0.25 s at 500,000 people, a sixth of an unchanged
    re-import's run. Lines hashed before it arrives keep only their number and digest; the
    few a lookup then finds changed are read again (one more pass over that stretch of the
    file, only if there is one).
    """

    sessions: async_sessionmaker[AsyncSession]
    hasher: NrnHasher
    index: asyncio.Future[StoredIndex]
    max_errors: int
    chunk_size: int
    _pending: list[PersonChange] = field(default_factory=list)

    async def check(
        self, path: Path, result: CheckResult, progress: ProgressCallback | None
    ) -> None:
        """Read every line of `path` into `result` (raises what reading raises)."""
        total = path.stat().st_size
        position = [0]
        second = None
        if not is_csv(path):
            second = SecondHalf.begin(path, self.hasher.line_key, MAX_LINE_BYTES)

        def report(number: int) -> None:
            if progress:
                progress("checking", position[0], total)

        try:
            end = None if second is None else second.start
            lines = read_raw_lines(path, position=position, stretch=(0, end, 1))
            early = await self._hash_until_the_index_arrives(lines, report)
            result.know(await self.index)
            await self._check_hashed(path, early, result)
            del early
            await self._check_lines(lines, result, report)
            if second is not None:
                await self._check_second_half(path, second, result)
                position[0] = total
                report(0)
        finally:
            if second is not None:
                second.cancel()
        await self._flush(result)

    async def _check_lines(
        self,
        lines: Iterator[RawLine],
        result: CheckResult,
        report: Callable[[int], None],
    ) -> None:
        """Hash and check each line of `lines` as it is read."""
        # The loop nearly every line goes through: local names, no call of ours for a
        # line whose digest is stored where the stored order expects it (most of them in
        # a re-import; `CheckResult.expected_at`).
        index = result.index
        in_place, expected = index.digested.startswith, result.expected_at
        first_line = result.first_line
        new_state = self.hasher.line_hasher()
        unchanged = 0
        try:
            for number, raw, source_line in lines:
                if raw is None:
                    digest = stored_at = None
                else:
                    state = new_state()
                    state.update(raw)
                    digest = state.digest()
                    if in_place(digest, expected):
                        stored_at = expected >> _PAIR_BITS
                        expected += _PAIR
                    elif (stored_at := index.position_of_digest.get(digest)) is not None:
                        expected = (stored_at + 1) << _PAIR_BITS
                if stored_at is None:
                    line = source_line or SourceLine(number, raw)
                    await self._check_parsed(line.parse(), digest, result)
                elif not (first := first_line[stored_at]):
                    first_line[stored_at] = number
                    unchanged += 1
                else:
                    error = LineError(number, "ssin", f"same person as line {first}")
                    self._reject(result, [error], identified=True)
                if number % POLL_LINES == 0:
                    report(number)
        finally:
            result.expected_at = expected
            result.unchanged += unchanged
            result.records += unchanged

    async def _check_second_half(self, path: Path, second: SecondHalf, result: CheckResult) -> None:
        """The lines the second process hashed, checked as lines hashed ahead are; if it
        failed, read here."""
        digests = await second.digests()
        if digests is not None:
            await self._check_hashed(path, digests, result, start=second.start)
            return
        with path.open("rb") as stream:
            first = lines_before(stream, second.start) + 1
        lines = read_raw_lines(path, stretch=(second.start, None, first))
        await self._check_lines(lines, result, lambda number: None)

    async def _hash_until_the_index_arrives(
        self, lines: Iterator[RawLine], report: Callable[[int], None]
    ) -> LineDigests:
        """Hash lines from the start of `lines` until the stored index has been read (or
        EARLY_LINES, or the end of the file); their numbers and digests."""
        hashed = LineDigests()
        if self.index.done():
            return hashed
        new_state = self.hasher.line_hasher()
        numbers, digests = hashed.numbers, hashed.digests
        for number, raw, _ in lines:
            numbers.append(number)
            if raw is None:
                hashed.without_digest.add(number)
                digests += bytes(_KEY)
            else:
                state = new_state()
                state.update(raw)
                digests += state.digest()
            if number % POLL_LINES == 0:
                report(number)
                await asyncio.sleep(0)  # lets the index's query read its answer
                if self.index.done() or len(numbers) >= EARLY_LINES:
                    break
        return hashed

    async def _check_hashed(
        self, path: Path, hashed: LineDigests, result: CheckResult, start: int = 0
    ) -> None:
        """Check lines hashed but not looked up yet (before the stored index arrived, or by
        the second process from byte `start`), in line order: `_check_lines`'s loop over
        digests already made."""
        index = result.index
        in_place, expected = index.digested.startswith, result.expected_at
        first_line = result.first_line
        again: Generator[RawLine, None, None] | None = None  # opened for a line to parse
        unchanged = 0
        try:
            for number, digest in hashed.lines():
                if digest is None:
                    stored_at = None
                elif in_place(digest, expected):
                    stored_at = expected >> _PAIR_BITS
                    expected += _PAIR
                elif (stored_at := index.position_of_digest.get(digest)) is not None:
                    expected = (stored_at + 1) << _PAIR_BITS
                if stored_at is None:
                    again = again or read_raw_lines(path, stretch=(start, None, hashed.first))
                    line = _read_up_to(again, number)
                    await self._check_parsed(line.parse(), digest, result)
                elif not (first := first_line[stored_at]):
                    first_line[stored_at] = number
                    unchanged += 1
                else:
                    error = LineError(number, "ssin", f"same person as line {first}")
                    self._reject(result, [error], identified=True)
        finally:
            result.expected_at = expected
            result.unchanged += unchanged
            result.records += unchanged
            if again is not None:
                again.close()

    async def _check_parsed(
        self, parsed: ParsedLine, digest: bytes | None, result: CheckResult
    ) -> None:
        line_errors = list(parsed.errors)
        record = parsed.record
        ssin = record.ssin if record else parsed.ssin
        if record is not None and record.removed:
            line_errors.append(
                LineError(
                    parsed.line,
                    "removed",
                    "a snapshot lists who is in the source; leave people out instead "
                    "of marking them removed",
                )
            )
        nrn_hash = self.hasher.hash(ssin) if ssin else None
        if nrn_hash is not None and (repeat := result.claim(person_key(nrn_hash), parsed.line)):
            line_errors.append(repeat)
        if line_errors:
            self._reject(result, line_errors, identified=nrn_hash is not None)
            return
        assert record is not None and nrn_hash is not None
        result.records += 1
        self._pending.append(PersonChange.of(record, nrn_hash, digest))
        if len(self._pending) >= self.chunk_size:
            await self._flush(result)

    def _reject(self, result: CheckResult, errors: list[LineError], *, identified: bool) -> None:
        result.invalid_lines += 1
        result.identifiable = result.identifiable and identified
        if len(result.errors) < self.max_errors:
            result.errors.extend(errors[: self.max_errors - len(result.errors)])

    async def _flush(self, result: CheckResult) -> None:
        if not self._pending:
            return
        if result.index.known:
            # Into an empty database nobody stops practising: no need to look.
            async with self.sessions() as session:
                result.deactivated += await _would_deactivate(session, self._pending)
        for change in self._pending:
            result.spool.add(change)
        self._pending.clear()


def _read_up_to(lines: Iterator[RawLine], number: int) -> SourceLine:
    """Line `number` of a second reader of the same file, read up to it."""
    for found, raw, source_line in lines:
        if found == number:
            return source_line or SourceLine(found, raw)
    raise SnapshotUnreadable(number, f"line {number} was not found again: the file changed")


async def _would_deactivate(session: AsyncSession, changes: list[PersonChange]) -> int:
    known = await known_by_hash(session, [change.nrn_hash for change in changes])
    count = 0
    for change in changes:
        existing = known.get(change.nrn_hash)
        if existing is None or existing.removed or change.version < as_utc(existing.source_version):
            continue
        if (
            ProfessionalFacts.from_json(existing.facts).may_practise()
            and not change.facts().may_practise()
        ):
            count += 1
    return count


async def missing_people(
    sessions: async_sessionmaker[AsyncSession], checked: CheckResult
) -> list[tuple[str, datetime]]:
    """Known people no line of the file names: id and last known version."""
    table = tables.professionals
    missing: list[tuple[str, datetime]] = []
    async with sessions() as session:
        result = await session.stream(
            sa.select(table.c.professional_id, table.c.nrn_hash, table.c.source_version)
            .where(~table.c.removed)
            .execution_options(yield_per=_INDEX_BATCH)
        )
        async for rows in result.partitions(_INDEX_BATCH):
            for professional_id, nrn_hash, version in rows:
                if not checked.names(person_key(nrn_hash)):
                    missing.append((professional_id, as_utc(version)))
    return missing
