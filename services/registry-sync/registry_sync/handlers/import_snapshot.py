"""Importing a full snapshot file: validate everything, then apply only what changed.

Two passes over the file, both streaming:
1. validate every line (and refuse duplicates); one invalid line rejects the whole
   file before anything is written, so a malformed snapshot changes nothing;
2. apply in chunks, each chunk one transaction holding the new state *and* its outbox
   events: a crash leaves every professional either old or new, never torn, and running
   the import again finishes the job without publishing anything twice.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import Event
from contracts.events.registry import ProfessionalIdentified, ProfessionalStatusChanged
from registry_sync.adapters import tables
from registry_sync.adapters.snapshot_files import LineError, read_snapshot
from registry_sync.domain.changes import ProfessionalFacts, change_events, registration_events
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.domain.source_record import SourceProfessional
from servicekit.messaging.outbox import Outbox

ProgressCallback = Callable[[str, int, int], None]
"""`(phase, bytes_done, bytes_total)`; phase is `validating` or `applying`."""


class SnapshotRejected(Exception):
    """The file has invalid lines; nothing was applied."""

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
            "import the file again."
        )


@dataclass
class ImportSummary:
    """What an import changed."""

    run_id: str
    source: str
    lines: int = 0
    registered: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    status_changes: Counter[str] = field(default_factory=Counter)
    events_published: int = 0

    def counts(self) -> dict[str, object]:
        """Storable counts."""
        return {
            "lines": self.lines,
            "registered": self.registered,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "stale": self.stale,
            "status_changes": dict(self.status_changes),
            "events": self.events_published,
        }


def _facts(record: SourceProfessional) -> ProfessionalFacts:
    return ProfessionalFacts(
        last_name=record.last_name,
        first_name=record.first_name,
        language=record.language,
        practice_ban=record.practice_ban,
        deceased=record.deceased,
        professions=tuple(p.to_record() for p in record.professions),
    )


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def validate_snapshot(
    path: Path, hasher: NrnHasher, *, max_errors: int, progress: ProgressCallback | None = None
) -> int:
    """First pass: every line valid and every person once. Returns the record count."""
    total = path.stat().st_size
    position = [0]
    errors: list[LineError] = []
    invalid_lines = 0
    first_line_of: dict[str, int] = {}
    records = 0
    for parsed in read_snapshot(path, position=position):
        line_errors = list(parsed.errors)
        if parsed.record is not None:
            if parsed.record.removed:
                line_errors.append(
                    LineError(
                        parsed.line,
                        "removed",
                        "a snapshot lists who is in the source; "
                        "leave people out instead of marking them removed",
                    )
                )
            # A short prefix of the keyed hash is enough to spot duplicates cheaply.
            key = hasher.hash(parsed.record.ssin)[:24]
            if key in first_line_of:
                line_errors.append(
                    LineError(parsed.line, "ssin", f"same person as line {first_line_of[key]}")
                )
            else:
                first_line_of[key] = parsed.line
        if line_errors:
            invalid_lines += 1
            if len(errors) < max_errors:
                errors.extend(line_errors[: max_errors - len(errors)])
        else:
            records += 1
        if progress and parsed.line % 2000 == 0:
            progress("validating", position[0], total)
    if invalid_lines:
        raise SnapshotRejected(path, errors, invalid_lines)
    if progress:
        progress("validating", total, total)
    return records


def _chunks(path: Path, size: int, position: list[int]) -> Iterator[list[SourceProfessional]]:
    records = (parsed.record for parsed in read_snapshot(path, position=position) if parsed.record)
    while chunk := list(islice(records, size)):
        yield chunk


async def _apply_chunk(
    session: AsyncSession,
    chunk: list[SourceProfessional],
    *,
    hasher: NrnHasher,
    outbox: Outbox,
    summary: ImportSummary,
) -> None:
    table = tables.professionals
    hashes = [hasher.hash(record.ssin) for record in chunk]
    known = {
        row.nrn_hash: row
        for row in await session.execute(
            sa.select(
                table.c.professional_id, table.c.nrn_hash, table.c.source_version, table.c.facts
            ).where(table.c.nrn_hash.in_(hashes))
        )
    }
    now = datetime.now(UTC)
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    events: list[Event] = []
    for record, nrn_hash in zip(chunk, hashes, strict=True):
        facts = _facts(record)
        existing = known.get(nrn_hash)
        if existing is None:
            professional_id = str(uuid.uuid4())
            inserts.append(
                {
                    "professional_id": professional_id,
                    "nrn_hash": nrn_hash,
                    "source_version": record.version,
                    "facts": facts.to_json(),
                    "removed": False,
                    "updated_at": now,
                }
            )
            events.extend(registration_events(professional_id, facts, record.version))
            events.append(
                ProfessionalIdentified(professional_id=professional_id, nrn_hash=nrn_hash)
            )
            summary.registered += 1
            continue
        if record.version < _aware(existing.source_version):
            summary.stale += 1
            continue
        changes = change_events(
            existing.professional_id,
            ProfessionalFacts.from_json(existing.facts),
            facts,
            record.version,
        )
        if not changes:
            summary.unchanged += 1
            continue
        updates.append(
            {
                "b_id": existing.professional_id,
                "source_version": record.version,
                "facts": facts.to_json(),
                "updated_at": now,
            }
        )
        events.extend(changes)
        summary.updated += 1
        for change in changes:
            if isinstance(change, ProfessionalStatusChanged):
                summary.status_changes[change.reason.value] += 1
    if inserts:
        await session.execute(sa.insert(table), inserts)
    if updates:
        await session.execute(
            sa.update(table)
            .where(table.c.professional_id == sa.bindparam("b_id"))
            .values(
                source_version=sa.bindparam("source_version"),
                facts=sa.bindparam("facts"),
                updated_at=sa.bindparam("updated_at"),
            )
            .execution_options(synchronize_session=False),
            updates,
        )
    summary.events_published += await outbox.add_all(session, events)


async def import_snapshot(
    path: Path,
    *,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    hasher: NrnHasher,
    chunk_size: int = 1000,
    max_errors: int = 20,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import one snapshot file; raises SnapshotRejected (nothing applied) on bad input."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; give the path of a snapshot file")
    summary = ImportSummary(run_id=str(uuid.uuid4()), source=str(path))
    summary.lines = validate_snapshot(path, hasher, max_errors=max_errors, progress=progress)
    runs = tables.sync_runs
    async with sessions() as session, session.begin():
        await session.execute(
            sa.insert(runs).values(
                run_id=summary.run_id,
                source=summary.source,
                status="running",
                started_at=datetime.now(UTC),
                counts={},
            )
        )
    total = path.stat().st_size
    position = [0]
    try:
        for chunk in _chunks(path, chunk_size, position):
            async with sessions() as session, session.begin():
                await _apply_chunk(session, chunk, hasher=hasher, outbox=outbox, summary=summary)
            outbox.notify_committed()
            if progress:
                progress("applying", position[0], total)
    except BaseException as error:
        async with sessions() as session, session.begin():
            await session.execute(
                sa.update(runs)
                .where(runs.c.run_id == summary.run_id)
                .values(
                    status="failed",
                    finished_at=datetime.now(UTC),
                    counts=summary.counts(),
                    error=f"{type(error).__name__}: {error}"[:2000],
                )
            )
        raise
    async with sessions() as session, session.begin():
        await session.execute(
            sa.update(runs)
            .where(runs.c.run_id == summary.run_id)
            .values(status="succeeded", finished_at=datetime.now(UTC), counts=summary.counts())
        )
    if progress:
        progress("applying", total, total)
    return summary
