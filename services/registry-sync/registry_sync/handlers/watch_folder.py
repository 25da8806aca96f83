"""Importing snapshot files dropped into a watched folder.

Whoever delivers snapshots writes the file under a name starting with a dot (or
elsewhere) and renames it into the folder when complete; as a second guard a file is
only taken once its size has not changed between two scans. Each file is imported like
`skaart registry import`, then moved:

- to `processed/` when applied,
- to `rejected/` with `<name>.error.txt` beside it when refused (invalid or oversized
  lines, a file that cannot be read to its end such as a truncated gzip, or the
  mass-removal guard): the operator fixes or forces it and drops it in again,
- nowhere when the import failed for another reason (database unreachable): it is tried
  again at the next scan.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from registry_sync.handlers.import_snapshot import MassRemovalRefused, SnapshotRejected
from registry_sync.handlers.sync_summary import ImportSummary

log = logging.getLogger(__name__)

SNAPSHOT_SUFFIXES = (".jsonl", ".jsonl.gz", ".csv", ".csv.gz")
ImportFile = Callable[[Path], Awaitable[ImportSummary]]


def _is_snapshot(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and not name.startswith(".") and name.endswith(SNAPSHOT_SUFFIXES)


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = folder / f"{stamp}-{path.name}"
    path.rename(target)
    return target


class FolderWatcher:
    """Scans one folder and imports the complete snapshot files it finds, oldest first."""

    def __init__(self, folder: Path, import_file: ImportFile) -> None:
        self._folder = folder
        self._import_file = import_file
        self._sizes: dict[Path, int] = {}

    def _ready_files(self) -> list[Path]:
        candidates = sorted(
            (p for p in self._folder.iterdir() if _is_snapshot(p)),
            key=lambda p: p.stat().st_mtime,
        )
        ready = []
        sizes = {}
        for path in candidates:
            size = path.stat().st_size
            sizes[path] = size
            if self._sizes.get(path) == size:
                ready.append(path)
        self._sizes = sizes
        return ready

    async def scan_once(self) -> list[tuple[Path, str]]:
        """Import what is ready; returns `(file, outcome)` pairs for what was handled."""
        self._folder.mkdir(parents=True, exist_ok=True)
        handled: list[tuple[Path, str]] = []
        for path in self._ready_files():
            try:
                summary = await self._import_file(path)
            except (SnapshotRejected, MassRemovalRefused) as refused:
                target = _move(path, self._folder / "rejected")
                target.with_name(target.name + ".error.txt").write_text(f"{refused}\n")
                log.warning("watched snapshot refused", extra={"file": target.name})
                handled.append((target, "rejected"))
            except Exception:
                log.exception("watched snapshot could not be imported; will retry")
                continue
            else:
                target = _move(path, self._folder / "processed")
                log.info(
                    "watched snapshot imported",
                    extra={"file": target.name, "run_id": summary.run_id},
                )
                handled.append((target, "processed"))
            self._sizes.pop(path, None)
        return handled

    async def run_forever(self, interval_s: float) -> None:
        """Scan every `interval_s` seconds until cancelled."""
        while True:
            try:
                await self.scan_once()
            except Exception:
                log.exception("scanning the watched folder failed")
            await asyncio.sleep(interval_s)
