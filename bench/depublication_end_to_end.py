"""How long a stop in the registry takes to leave the public map, during a national import.

    .venv/bin/python bench/depublication_end_to_end.py [--count 100000] [--change-percent 1]

The path a citizen's search depends on, in microservices mode on one machine: registry-sync
(`skaart registry import` in a child process) publishes, fiches (in this process) takes the
provider off the map and publishes `ProviderFicheDepublished`, and the directory
(`skaart serve directory` in a second child process, its own SQLite database) drops the
provider from search, FHIR and HSDS.

1. First import of COUNT people; wait until the directory shows every provider fiche.
2. A follow-up snapshot: CHANGE_PERCENT of the known people stop, their lines
   interleaved with COUNT new people, so every stop is published among COUNT
   registrations that fiches, then the directory, must also apply.
3. Per stopped provider, from the Kafka timestamp of the `ProfessionalStatusChanged` record:
   fiches' depublication (the event's `occurred_at`), the `ProviderFicheDepublished` on
   `fiches.providers.v1` (its Kafka timestamp), and the directory's first inbox row for that
   event (either of its groups: the moment search, FHIR and HSDS stopped showing it).
Prints a Markdown table; writes it to bench/results/depublication_end_to_end.md too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline_baselines import BenchError, bounded

from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component as build_fiches
from pipeline import (  # the script's folder, not a package
    FICHES_TIMEOUT_S,
    depublication_moments,
    percentile,
    run_import,
    wait_until_consumed,
    watch_fiches,
    write_snapshots,
)
from servicekit.embedded_broker import start_embedded_broker
from servicekit.gc_tuning import tune_for_long_running_service
from servicekit.messaging.kafka_clients import ensure_topics
from servicekit.settings import KafkaSettings, PlatformSettings
from servicekit.waiting import within

DIRECTORY_TIMEOUT_S = 1200.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_directory(
    env: dict[str, str], work: Path, port: int | None = None
) -> subprocess.Popen[bytes]:
    """`skaart serve directory` in a child process, as in microservices mode, on `port`
    (a free one when not given); its output in WORK/directory.log."""
    log = open(work / "directory.log", "wb")  # noqa: SIM115 - the child writes it until stopped
    return subprocess.Popen(
        [sys.executable, "-c", "from skaart.cli import main; main()", "serve", "directory"],
        env={**env, "SKAART_HTTP_PORT": str(port or free_port())},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _directory_query(work: Path, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
    path = work / "directory.db"
    if not path.exists():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as connection:
        try:
            return connection.execute(sql, parameters).fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return []


async def wait_for_directory(work: Path, published: int, timeout_s: float) -> float:
    """Wait until the directory shows `published` provider fiches, every one rebuilt (no
    fiche left waiting in `projection_pending` by a catch-up); returns when it did."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = _directory_query(work, "SELECT count(*) FROM search_providers WHERE published")
        waiting = _directory_query(work, "SELECT count(*) FROM projection_pending")
        if rows and rows[0][0] >= published and waiting and waiting[0][0] == 0:
            return time.time()
        if time.monotonic() > deadline:
            raise BenchError(f"the directory did not show {published:,} providers in time")
        await asyncio.sleep(0.5)


async def directory_applied(work: Path, event_ids: list[str], timeout_s: float) -> dict[str, float]:
    """When the directory first applied each event (its inbox, either consumer group)."""
    deadline = time.monotonic() + timeout_s
    marks = ",".join("?" for _ in event_ids)
    while True:
        rows = _directory_query(
            work,
            "SELECT event_id, min(processed_at) FROM inbox_messages "
            f"WHERE event_id IN ({marks}) GROUP BY event_id",
            tuple(event_ids),
        )
        if len(rows) == len(event_ids):
            # SQLite keeps the UTC time without its offset.
            return {
                event_id: datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp()
                for event_id, at in rows
            }
        if time.monotonic() > deadline:
            raise BenchError(f"the directory applied {len(rows)} of {len(event_ids)} in time")
        await asyncio.sleep(0.5)


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:,.0f} ms"


def latency_table(measured: dict[str, tuple[float, ...]], applied: dict[str, float]) -> list[str]:
    stages = {
        "fiches depublished (`occurred_at`)": [d[1] - d[0] for d in measured.values()],
        "on `fiches.providers.v1`": [d[2] - d[0] for d in measured.values()],
        "gone from the directory (search, FHIR, HSDS)": [
            applied[event_id] - d[0] for event_id, d in measured.items()
        ],
    }
    rows = ["| from the registry's stop to … | p50 | p99 | max |", "| --- | --- | --- | --- |"]
    for stage, values in stages.items():
        rows.append(f"| {stage} | {_ms(values, 50)} | {_ms(values, 99)} | {_ms(values, 100)} |")
    return rows


async def main(count: int, change_percent: float) -> str:
    work = Path(tempfile.mkdtemp(prefix="skaart-bench-e2e-"))
    broker = await start_embedded_broker(log_path=work / "broker.log")
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False)
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "KAFKA_ENABLE_IDEMPOTENCE": "false",
        "SKAART_DATA_DIR": str(work),
    }
    fiches = None
    directory = None
    try:
        await bounded(ensure_topics(kafka), 60, "creating the contract topics")
        first, second, third = write_snapshots(work, count, change_percent)
        fiches = build_fiches(PlatformSettings(data_dir=work), kafka, FichesSettings())
        tune_for_long_running_service()  # as `skaart serve fiches` does
        await bounded(fiches.runtime.start(), 60, "fiches start")
        directory = start_directory(env, work)
        await asyncio.sleep(8)  # let the consumer groups settle before timing
        await asyncio.to_thread(run_import, first, env)
        await bounded(watch_fiches(fiches, count), FICHES_TIMEOUT_S, "fiches publishing")
        await wait_for_directory(work, count, DIRECTORY_TIMEOUT_S)

        tables = []
        for label, snapshot in (
            (f"{change_percent:g}% of the known people stop, nothing else", second),
            (f"the same, interleaved with {count:,} new people", third),
        ):
            since_ms = time.time() * 1000
            import_s, _ = await asyncio.to_thread(run_import, snapshot, env)
            await wait_until_consumed(kafka, fiches, FICHES_TIMEOUT_S)
            measured = await depublication_moments(kafka, since_ms)
            if not measured:
                raise BenchError("no depublication measured")
            applied = await directory_applied(work, sorted(measured), DIRECTORY_TIMEOUT_S)
            tables += [
                f"**{label}** (import {import_s:.1f} s, {len(measured):,} depublished):",
                "",
                *latency_table(measured, applied),
                "",
            ]
        runtime, fiches = fiches.runtime, None
        await bounded(runtime.stop(), 60, "fiches stop")
    finally:
        if fiches is not None:
            try:
                await within(fiches.runtime.stop(), 30)
            except Exception as error:
                print(f"fiches did not stop cleanly: {error!r}", file=sys.stderr)
        if directory is not None:
            directory.terminate()
            directory.wait(30)
        broker.stop()
        print(f"work folder: {work}", file=sys.stderr)
    return "\n".join([f"{count:,} people in the first import.", "", *tables]).rstrip()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--change-percent", type=float, default=1.0)
    args = parser.parse_args()
    try:
        result = asyncio.run(main(args.count, args.change_percent))
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        sys.exit(1)
    print(result)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "depublication_end_to_end.md").write_text(result + "\n")
