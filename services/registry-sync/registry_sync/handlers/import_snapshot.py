"""Importing a full snapshot file: check everything first, then apply only what changed.

1. **check** (`snapshot_check`): every line is read once and its keyed digest compared
   with the stored ones; a line the stored state came from is unchanged and is never
   parsed. Every other line is validated, every person must appear once, and the stored
   state of the changed people is read to count who would stop practising; afterwards,
   who is missing from the file (they left the source). Strict mode (the default)
   refuses a file with any invalid line; lenient mode skips and reports them. A snapshot
   that would remove or deactivate more than the allowed share of the known
   professionals is refused unless forced: a truncated export must never wipe the
   directory. Nothing is written before this pass has passed.
2. **apply** the changed people only, from the check pass's spool (no line is parsed
   twice), in chunks, each chunk one transaction holding the new state and its outbox
   events: a crash leaves every professional either old or new, never torn, and running
   the import again finishes the job without publishing anything twice. A running relay
   publishes each chunk as soon as it commits. People missing from the file are then
   marked removed, with ProfessionalRemoved events.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry_sync.adapters.change_spool import ChangeSpool
from registry_sync.adapters.csv_snapshot import CsvFormatError
from registry_sync.adapters.snapshot_files import LineError, SnapshotUnreadable
from registry_sync.domain.pseudonyms import NrnHasher
from registry_sync.handlers.apply_records import apply_changes, remove_people
from registry_sync.handlers.snapshot_check import (
    CheckResult,
    ProgressCallback,
    SnapshotChecker,
    StoredIndex,
    load_stored_index,
    missing_people,
)
from registry_sync.handlers.sync_runs import finish_run, record_refused_run, start_run
from registry_sync.handlers.sync_summary import ImportSummary
from servicekit.messaging.outbox import Outbox

__all__ = [
    "ImportSummary",
    "MassRemovalRefused",
    "SnapshotRejected",
    "SnapshotUnreadableRefused",
    "import_snapshot",
]


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


@dataclass(frozen=True)
class ImportOptions:
    """How one import runs (the settings and the command's flags)."""

    chunk_size: int = 1000
    max_errors: int = 20
    lenient: bool = False
    force: bool = False
    max_removal_share: float = 0.05


async def start_reading_the_index(
    sessions: async_sessionmaker[AsyncSession],
) -> asyncio.Future[StoredIndex]:
    """The stored index, read while the check pass hashes the first lines."""
    return asyncio.ensure_future(load_stored_index(sessions))


async def _check(
    path: Path,
    *,
    sessions: async_sessionmaker[AsyncSession],
    hasher: NrnHasher,
    options: ImportOptions,
    progress: ProgressCallback | None,
) -> CheckResult:
    """The check pass; raises SnapshotRejected (strict mode, or an unreadable file)."""
    index = await start_reading_the_index(sessions)
    checker = SnapshotChecker(
        sessions, hasher, index, max_errors=options.max_errors, chunk_size=options.chunk_size
    )
    result = CheckResult(spool=ChangeSpool())
    try:
        await checker.check(path, result, progress)
    except CsvFormatError as error:
        result.spool.close()
        raise SnapshotRejected(path, [LineError(1, "(header)", str(error))], 1) from error
    except SnapshotUnreadable as error:
        result.spool.close()
        raise SnapshotUnreadableRefused(path, error) from None
    except BaseException:
        result.spool.close()
        raise
    finally:
        if not index.done():
            index.cancel()  # the file could not be read: the index is not needed
        elif not index.cancelled():
            index.exception()  # retrieved: what went wrong was raised by the check
    if result.invalid_lines and not options.lenient:
        result.spool.close()
        raise SnapshotRejected(path, result.errors, result.invalid_lines)
    if progress:
        total = path.stat().st_size
        progress("checking", total, total)
    return result


def _refuse_mass_removal(path: Path, checked: CheckResult, options: ImportOptions) -> int:
    """How many known people the file leaves out (0 when that cannot be told safely)."""
    index = checked.index
    missing = checked.missing() if checked.identifiable else 0
    share = (missing + checked.deactivated) / index.known if index.known else 0.0
    if not options.force and share > options.max_removal_share:
        raise MassRemovalRefused(
            path, missing, checked.deactivated, index.known, options.max_removal_share
        )
    return missing


async def _checked(
    path: Path,
    summary: ImportSummary,
    started: datetime,
    *,
    sessions: async_sessionmaker[AsyncSession],
    hasher: NrnHasher,
    options: ImportOptions,
    progress: ProgressCallback | None,
) -> tuple[CheckResult, list[tuple[str, datetime]]]:
    """Check the file; the changes to apply and the people to remove, or a refusal."""
    try:
        checked = await _check(
            path,
            sessions=sessions,
            hasher=hasher,
            options=options,
            progress=progress,
        )
        summary.rejected = checked.invalid_lines
        summary.rejected_lines = checked.errors
        summary.lines = checked.records + checked.invalid_lines
        try:
            missing = _refuse_mass_removal(path, checked, options)
        except MassRemovalRefused:
            checked.spool.close()
            raise
    except (SnapshotRejected, MassRemovalRefused) as refused:
        # Refused before anything was written: the run record is what the operator finds
        # afterwards (`skaart registry runs`, /api/registry-sync/runs).
        if isinstance(refused, SnapshotRejected):
            summary.rejected = refused.invalid_lines
            summary.rejected_lines = list(refused.errors)
        await record_refused_run(sessions, summary, started, refused)
        raise
    if not checked.identifiable:
        summary.notes.append(
            "removals not applied: some rejected lines name no valid person, so who left "
            "the source cannot be told apart from who was rejected"
        )
        return checked, []
    if not missing:
        return checked, []
    return checked, await missing_people(sessions, checked)


async def _apply(
    checked: CheckResult,
    missing: list[tuple[str, datetime]],
    summary: ImportSummary,
    *,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    chunk_size: int,
    progress: ProgressCallback | None,
) -> None:
    """Apply the spooled changes, then the removals, one transaction per chunk."""
    summary.unchanged += checked.unchanged
    total = checked.spool.size
    position = [0]
    for chunk in checked.spool.chunks(chunk_size, position):
        async with sessions() as session, session.begin():
            await apply_changes(session, chunk, outbox=outbox, summary=summary)
        outbox.notify_committed()
        if progress:
            progress("applying", position[0], total)
    for start in range(0, len(missing), chunk_size):
        async with sessions() as session, session.begin():
            await remove_people(
                session, missing[start : start + chunk_size], outbox=outbox, summary=summary
            )
        outbox.notify_committed()
    if progress:
        progress("applying", total, total)


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
    options = ImportOptions(chunk_size, max_errors, lenient, force, max_removal_share)
    summary = ImportSummary(run_id=str(uuid.uuid4()), source=str(path))
    started = datetime.now(UTC)
    checked, missing = await _checked(
        path,
        summary,
        started,
        sessions=sessions,
        hasher=hasher,
        options=options,
        progress=progress,
    )
    checked.release()
    with checked.spool:
        await start_run(sessions, summary, started)
        try:
            await _apply(
                checked,
                missing,
                summary,
                sessions=sessions,
                outbox=outbox,
                chunk_size=chunk_size,
                progress=progress,
            )
        except BaseException as error:
            await finish_run(sessions, summary, status="failed", error=error)
            raise
    await finish_run(sessions, summary, status="succeeded")
    return summary
