"""Importing a full snapshot file: check everything first, then apply only what changed.

Two streaming passes over the file:
1. **check**: every line is validated and every person appears once; the stored state is
   read alongside to count who would stop practising, and afterwards who is missing
   from the file (they left the source). Strict mode (the default) refuses a file with
   any invalid line; lenient mode skips and reports them. A snapshot that would remove
   or deactivate more than the allowed share of the known professionals is refused
   unless forced: a truncated export must never wipe the directory. Nothing is written
   before this pass has passed.
2. **apply** in chunks, each chunk one transaction holding the new state and its outbox
   events: a crash leaves every professional either old or new, never torn, and running
   the import again finishes the job without publishing anything twice. People missing
   from the file are then marked removed, with ProfessionalRemoved events.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry_sync.adapters import tables
from registry_sync.adapters.csv_snapshot import CsvFormatError
from registry_sync.adapters.snapshot_files import (
    LineError,
    ParsedLine,
    SnapshotUnreadable,
    read_snapshot,
)
from registry_sync.domain.changes import ProfessionalFacts
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.domain.source_record import SourceProfessional
from registry_sync.handlers.apply_records import (
    apply_records,
    facts_of,
    known_by_hash,
    remove_people,
)
from registry_sync.handlers.sync_runs import finish_run, record_refused_run, start_run
from registry_sync.handlers.sync_summary import ImportSummary
from servicekit.database import as_utc
from servicekit.messaging.outbox import Outbox

__all__ = [
    "ImportSummary",
    "MassRemovalRefused",
    "SnapshotRejected",
    "SnapshotUnreadableRefused",
    "import_snapshot",
]

ProgressCallback = Callable[[str, int, int], None]
"""`(phase, bytes_done, bytes_total)`; phase is `checking` or `applying`."""


class SnapshotRejected(Exception):
    """The file has invalid lines (strict mode); nothing was applied."""

    def __init__(self, path: Path, errors: list[LineError], invalid_lines: int) -> None:
        self.path = path
        self.errors = errors
        self.invalid_lines = invalid_lines
        shown = "\n".join(f"  {path}: {error}" for error in errors)
        more = invalid_lines - len({e.line for e in errors})
        super().__init__(
            f"{path}: {invalid_lines} invalid line(s); nothing was imported.\n{shown}"
            + (f"\n  … and {more} more line(s)" if more > 0 else "")
            + "\nFix the lines named above (or ask the source for a corrected export) and "
            "import the file again, or import it with --lenient to skip those lines."
        )


class SnapshotUnreadableRefused(SnapshotRejected):
    """The file cannot be read to its end (truncated gzip, not UTF-8); nothing was applied."""

    def __init__(self, path: Path, problem: SnapshotUnreadable) -> None:
        Exception.__init__(
            self,
            f"{path}: cannot be read: {problem.problem}. Nothing was imported. Copy the "
            "file again from the source (or ask the source for a new export) and import "
            "it again.",
        )
        self.path = path
        self.errors = [LineError(problem.line + 1, "(file)", problem.problem)]
        self.invalid_lines = 1


class MassRemovalRefused(Exception):
    """The snapshot would remove or deactivate too many professionals; nothing applied."""

    def __init__(
        self, path: Path, removed: int, deactivated: int, known: int, limit: float
    ) -> None:
        self.removed = removed
        self.deactivated = deactivated
        self.known = known
        share = (removed + deactivated) / known
        super().__init__(
            f"{path}: refused, nothing was imported. It would remove {removed:,} and "
            f"deactivate {deactivated:,} of the {known:,} known professionals ({share:.1%}), "
            f"more than the {limit:.1%} allowed. A truncated or partial export looks like "
            "this: check the file with the source. If the change is real, import it again "
            "with --force (or raise REGISTRY_SYNC_MAX_REMOVAL_SHARE)."
        )


@dataclass
class _CheckResult:
    records: int
    seen: set[bytes]
    rejected_lines: set[int]
    """Lines refused in the check; the apply pass must skip exactly these (lenient runs)."""
    deactivated: int
    identifiable: bool
    """Every rejected line named a valid person: removals can be computed safely."""


def _seen_key(nrn_hash: str) -> bytes:
    # 16 bytes of the keyed hash identify a person well enough and keep the set small.
    return bytes.fromhex(nrn_hash[:32])


async def _would_deactivate(
    session: AsyncSession, records: list[SourceProfessional], hashes: list[str]
) -> int:
    known = await known_by_hash(session, hashes)
    count = 0
    for record, nrn_hash in zip(records, hashes, strict=True):
        existing = known.get(nrn_hash)
        if existing is None or existing.removed or record.version < as_utc(existing.source_version):
            continue
        if (
            ProfessionalFacts.from_json(existing.facts).may_practise()
            and not facts_of(record).may_practise()
        ):
            count += 1
    return count


async def _check(
    path: Path,
    *,
    sessions: async_sessionmaker[AsyncSession],
    hasher: NrnHasher,
    summary: ImportSummary,
    lenient: bool,
    max_errors: int,
    chunk_size: int,
    progress: ProgressCallback | None,
) -> _CheckResult:
    total = path.stat().st_size
    position = [0]
    seen: set[bytes] = set()
    first_line_of: dict[bytes, int] = {}
    errors: list[LineError] = []
    invalid_lines = 0
    rejected_lines: set[int] = set()
    identifiable = True
    records = 0
    deactivated = 0
    pending: list[tuple[SourceProfessional, str]] = []

    async def flush_pending() -> None:
        nonlocal deactivated
        if pending:
            async with sessions() as session:
                deactivated += await _would_deactivate(
                    session, [r for r, _ in pending], [h for _, h in pending]
                )
            pending.clear()

    try:
        for parsed in read_snapshot(path, position=position):
            line_errors = list(parsed.errors)
            ssin = parsed.record.ssin if parsed.record else parsed.ssin
            if parsed.record is not None and parsed.record.removed:
                line_errors.append(
                    LineError(
                        parsed.line,
                        "removed",
                        "a snapshot lists who is in the source; leave people out instead "
                        "of marking them removed",
                    )
                )
            nrn_hash = hasher.hash(ssin) if ssin else None
            if nrn_hash is not None:
                key = _seen_key(nrn_hash)
                if key in first_line_of:
                    line_errors.append(
                        LineError(parsed.line, "ssin", f"same person as line {first_line_of[key]}")
                    )
                else:
                    first_line_of[key] = parsed.line
                    seen.add(key)
            if line_errors:
                invalid_lines += 1
                rejected_lines.add(parsed.line)
                identifiable = identifiable and nrn_hash is not None
                if len(errors) < max_errors:
                    errors.extend(line_errors[: max_errors - len(errors)])
            else:
                assert parsed.record is not None and nrn_hash is not None
                records += 1
                pending.append((parsed.record, nrn_hash))
                if len(pending) >= chunk_size:
                    await flush_pending()
            if progress and parsed.line % 2000 == 0:
                progress("checking", position[0], total)
    except CsvFormatError as error:
        raise SnapshotRejected(path, [LineError(1, "(header)", str(error))], 1) from error
    except SnapshotUnreadable as error:
        raise SnapshotUnreadableRefused(path, error) from None
    await flush_pending()
    first_line_of.clear()
    if invalid_lines and not lenient:
        raise SnapshotRejected(path, errors, invalid_lines)
    summary.rejected = invalid_lines
    summary.rejected_lines = errors
    if progress:
        progress("checking", total, total)
    return _CheckResult(records, seen, rejected_lines, deactivated, identifiable)


async def _missing_people(
    sessions: async_sessionmaker[AsyncSession], seen: set[bytes]
) -> list[tuple[str, datetime]]:
    table = tables.professionals
    missing: list[tuple[str, datetime]] = []
    async with sessions() as session:
        result = await session.stream(
            sa.select(table.c.professional_id, table.c.nrn_hash, table.c.source_version).where(
                ~table.c.removed
            )
        )
        async for professional_id, nrn_hash, version in result:
            if _seen_key(nrn_hash) not in seen:
                missing.append((professional_id, as_utc(version)))
    return missing


async def _known_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    table = tables.professionals
    async with sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).where(~table.c.removed)) or 0)


def _valid_records(
    path: Path, size: int, position: list[int], rejected_lines: set[int]
) -> Iterator[list[SourceProfessional]]:
    records = (
        record
        for parsed in read_snapshot(path, position=position)
        if parsed.line not in rejected_lines and (record := _applicable(parsed)) is not None
    )
    while chunk := list(islice(records, size)):
        yield chunk


def _applicable(parsed: ParsedLine) -> SourceProfessional | None:
    record = parsed.record
    return record if record is not None and not parsed.errors and not record.removed else None


async def import_snapshot(
    path: Path,
    *,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    hasher: NrnHasher,
    chunk_size: int = 1000,
    max_errors: int = 20,
    progress: ProgressCallback | None = None,
    lenient: bool = False,
    force: bool = False,
    max_removal_share: float = 0.05,
) -> ImportSummary:
    """Import one snapshot file.

    Raises SnapshotRejected (strict mode, invalid lines) or MassRemovalRefused (too many
    removals or deactivations); in both cases nothing was applied.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; give the path of a snapshot file")
    summary = ImportSummary(run_id=str(uuid.uuid4()), source=str(path))
    started = datetime.now(UTC)
    try:
        checked = await _check(
            path,
            sessions=sessions,
            hasher=hasher,
            summary=summary,
            lenient=lenient,
            max_errors=max_errors,
            chunk_size=chunk_size,
            progress=progress,
        )
        summary.lines = checked.records + summary.rejected
        known = await _known_count(sessions)
        missing = await _missing_people(sessions, checked.seen) if checked.identifiable else []
        if not checked.identifiable:
            summary.notes.append(
                "removals not applied: some rejected lines name no valid person, so who left "
                "the source cannot be told apart from who was rejected"
            )
        share = (len(missing) + checked.deactivated) / known if known else 0.0
        if not force and share > max_removal_share:
            raise MassRemovalRefused(
                path, len(missing), checked.deactivated, known, max_removal_share
            )
    except (SnapshotRejected, MassRemovalRefused) as refused:
        # Refused before anything was written: the run record is what the operator finds
        # afterwards (`skaart registry runs`, /api/registry-sync/runs).
        if isinstance(refused, SnapshotRejected):
            summary.rejected = refused.invalid_lines
            summary.rejected_lines = list(refused.errors)
        await record_refused_run(sessions, summary, started, refused)
        raise
    checked.seen.clear()
    await start_run(sessions, summary, started)
    total = path.stat().st_size
    position = [0]
    try:
        for chunk in _valid_records(path, chunk_size, position, checked.rejected_lines):
            async with sessions() as session, session.begin():
                await apply_records(session, chunk, hasher=hasher, outbox=outbox, summary=summary)
            outbox.notify_committed()
            if progress:
                progress("applying", position[0], total)
        for start in range(0, len(missing), chunk_size):
            async with sessions() as session, session.begin():
                await remove_people(
                    session, missing[start : start + chunk_size], outbox=outbox, summary=summary
                )
            outbox.notify_committed()
    except BaseException as error:
        await finish_run(sessions, summary, status="failed", error=error)
        raise
    await finish_run(sessions, summary, status="succeeded")
    if progress:
        progress("applying", total, total)
    return summary
