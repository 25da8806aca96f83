"""Where an unchanged re-import's own run goes, phase by phase (run by bench/reimport.py).

    python bench/reimport_phases.py DATABASE_URL SNAPSHOT [--repeat 3]

Runs `import_snapshot` in this process (no command line, no broker) on a database that
already holds SNAPSHOT, and times its phases by wrapping the functions of
`registry_sync.handlers.import_snapshot` that run them: reading the stored digests
(`load_stored_index`), the check pass over every line (`_check`), counting who is
missing (`_refuse_mass_removal`) and the sync-run records (`start_run`, `finish_run`).
Prints one JSON object: per phase the median wall and CPU seconds. The stored digests are
read beside the check pass (since 2026-11-30): their wall time lies inside the check's, and
the CPU of the process while they are read is mostly the check's hashing. The same function
names exist in the code before the re-import work, so `--before`'s interpreter can run it
too (from another folder than a checkout, so its own packages are imported).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import registry_sync.handlers.import_snapshot as import_module
from registry_sync.adapters.tables import TABLES
from registry_sync.config import RegistrySyncSettings
from registry_sync.domain.pseudonyms import NrnHasher
from servicekit.database import create_engine, session_factory
from servicekit.messaging.outbox import Outbox

PHASES = {
    "load_stored_index": True,
    "_check": True,
    "_refuse_mass_removal": False,
    "start_run": True,
    "finish_run": True,
}


def _timed(name: str, is_async: bool, times: dict[str, list[tuple[float, float]]]) -> None:
    original: Callable[..., Any] = getattr(import_module, name)

    def record(started: float, cpu: float) -> None:
        times.setdefault(name, []).append(
            (time.perf_counter() - started, time.process_time() - cpu)
        )

    if is_async:

        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return await original(*args, **kwargs)
            finally:
                record(started, cpu)

        setattr(import_module, name, wrapped_async)
    else:

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                record(started, cpu)

        setattr(import_module, name, wrapped)


async def main(url: str, path: Path, repeat: int) -> dict[str, Any]:
    times: dict[str, list[tuple[float, float]]] = {}
    for name, is_async in PHASES.items():
        _timed(name, is_async, times)
    engine = create_engine(url)
    sessions = session_factory(engine)
    hasher = NrnHasher(RegistrySyncSettings().nrn_hmac_key.get_secret_value())
    totals: list[tuple[float, float]] = []
    try:
        for _ in range(repeat):
            started, cpu = time.perf_counter(), time.process_time()
            summary = await import_module.import_snapshot(
                path,
                sessions=sessions,
                outbox=Outbox(TABLES.outbox, source="/skaart/registry-sync"),
                hasher=hasher,
            )
            totals.append((time.perf_counter() - started, time.process_time() - cpu))
            if summary.events_published:
                raise RuntimeError("the snapshot is not unchanged: events were queued")
    finally:
        await engine.dispose()
    times["import_snapshot"] = totals
    return {
        name: {
            "wall": statistics.median(wall for wall, _ in values),
            "cpu": statistics.median(cpu for _, cpu in values),
        }
        for name, values in times.items()
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.url, args.snapshot, args.repeat))))
