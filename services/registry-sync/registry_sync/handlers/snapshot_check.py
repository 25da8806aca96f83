"""The check pass of a snapshot import: every line read once, only changed lines parsed.

Before anything is parsed, each line's keyed digest is looked up among the digests of
the stored state (`StoredIndex`, read once). A line whose digest is stored is exactly the
line the stored state came from: it is counted unchanged and never parsed. Every other
line takes the full path: validated, hashed, checked for repeats, compared with its
stored state (to count who would stop practising) and kept in a `ChangeSpool` for the
apply pass. Nothing is written to the database here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry_sync.adapters import tables
from registry_sync.adapters.change_spool import ChangeSpool
from registry_sync.adapters.snapshot_files import LineError, ParsedLine, read_source_lines
from registry_sync.domain.changes import ProfessionalFacts
from registry_sync.domain.person_change import PersonChange
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.handlers.apply_records import known_by_hash
from servicekit.database import as_utc

ProgressCallback = Callable[[str, int, int], None]
"""`(phase, bytes_done, bytes_total)`; phase is `checking` or `applying`."""

_INDEX_BATCH = 10_000


def person_key(nrn_hash: str) -> bytes:
    """16 bytes of the keyed hash: they identify a person well enough, and sets stay small."""
    return bytes.fromhex(nrn_hash[:32])


@dataclass
class StoredIndex:
    """Who is in the source as far as registry-sync knows, read once per import."""

    by_digest: dict[bytes, bytes] = field(default_factory=dict)
    """Line digest -> person key, for people with a stored digest."""
    undigested: list[bytes] = field(default_factory=list)
    """Keys of people stored without a digest (delta-feed changes, older imports)."""

    @property
    def known(self) -> int:
        """People in the source (not removed)."""
        return len(self.by_digest) + len(self.undigested)

    def person_keys(self) -> Iterator[bytes]:
        """Every known person's key."""
        yield from self.by_digest.values()
        yield from self.undigested


async def load_stored_index(sessions: async_sessionmaker[AsyncSession]) -> StoredIndex:
    """Keys and line digests of everyone in the source (two narrow columns, no facts)."""
    table = tables.professionals
    index = StoredIndex()
    async with sessions() as session:
        result = await session.stream(
            sa.select(table.c.nrn_hash, table.c.line_digest)
            .where(~table.c.removed)
            .execution_options(yield_per=_INDEX_BATCH)
        )
        async for rows in result.partitions(_INDEX_BATCH):
            for nrn_hash, digest in rows:
                if digest is None:
                    index.undigested.append(person_key(nrn_hash))
                else:
                    index.by_digest[bytes(digest)] = person_key(nrn_hash)
    return index


@dataclass
class CheckResult:
    """What the check pass found; the spool holds the changes to apply."""

    spool: ChangeSpool
    unchanged: int = 0
    """Lines skipped unparsed: their digest is stored."""
    records: int = 0
    """Valid lines, skipped or not."""
    invalid_lines: int = 0
    errors: list[LineError] = field(default_factory=list)
    deactivated: int = 0
    identifiable: bool = True
    """Every rejected line named a valid person: removals can be computed safely."""
    first_line_of: dict[bytes, int] = field(default_factory=dict)
    """Person key -> first line naming them: who is in the file."""

    def claim(self, key: bytes, line: int) -> LineError | None:
        """Note that `line` names this person; an error if an earlier line did."""
        first = self.first_line_of.setdefault(key, line)
        if first != line:
            return LineError(line, "ssin", f"same person as line {first}")
        return None

    def missing(self, index: StoredIndex) -> int:
        """How many known people no line of the file names."""
        return sum(1 for key in index.person_keys() if key not in self.first_line_of)


@dataclass
class SnapshotChecker:
    """Runs the check pass over one file."""

    sessions: async_sessionmaker[AsyncSession]
    hasher: NrnHasher
    index: StoredIndex
    max_errors: int
    chunk_size: int
    _pending: list[PersonChange] = field(default_factory=list)

    async def check(
        self, path: Path, result: CheckResult, progress: ProgressCallback | None
    ) -> None:
        """Read every line of `path` into `result` (raises what reading raises)."""
        total = path.stat().st_size
        position = [0]
        by_digest = self.index.by_digest
        for source_line in read_source_lines(path, position=position):
            digest = self.hasher.line_digest(source_line.raw) if source_line.raw else None
            key = by_digest.get(digest) if digest is not None else None
            if key is not None:
                error = result.claim(key, source_line.line)
                if error is None:
                    result.unchanged += 1
                    result.records += 1
                else:
                    self._reject(result, [error], identified=True)
            else:
                await self._check_parsed(source_line.parse(), digest, result)
            if progress and source_line.line % 2000 == 0:
                progress("checking", position[0], total)
        await self._flush(result)

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
        if self.index.known:
            # Into an empty database nobody stops practising: no need to look.
            async with self.sessions() as session:
                result.deactivated += await _would_deactivate(session, self._pending)
        for change in self._pending:
            result.spool.add(change)
        self._pending.clear()


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
    sessions: async_sessionmaker[AsyncSession], first_line_of: dict[bytes, int]
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
                if person_key(nrn_hash) not in first_line_of:
                    missing.append((professional_id, as_utc(version)))
    return missing
