"""Benchmark of registry-sync at national scale (a script, not a test).

    .venv/bin/python bench/national_scale.py [--count 500000] [--backends sqlite,postgresql]

Per database backend, on one embedded broker, with `skaart registry import` in a child
process (it validates, applies and publishes every event before it exits; its peak RSS,
with its publishing process's, is registry-sync's) and fiches consuming in this process:
1. first import of COUNT generated professionals, to every event published (alone: fiches
   starts consuming once it is done);
2. the same snapshot again (must publish 0 events);
3. a 1% status-change snapshot, to every change published; then how long until fiches
   has depublished every affected fiche.
Beside them, the baselines of the same run: a bare aiokafka producer's rate (acks=all)
on the same broker, and the time to read and hash (blake2b) every line of the snapshot
in Python, which bounds what skipping unchanged lines by their digest can reach, and
the start of a `skaart` process that does nothing. Each import also reports its sync
run's own duration (from its record): the import without the process start and without
publishing what is left after the last chunk.
Prints a Markdown table; writes it to bench/results/national_scale.md too.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from script_output import measure_table, script_parser, write_result

from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component as build_fiches
from pipeline import SEED, BenchError, published_count, run_import
from registry_sync.adapters.tables import sync_runs
from registry_sync.simulator.demo_data import (
    follow_up_snapshot,
    generate_professionals,
    write_snapshot,
)
from servicekit.database import create_engine
from servicekit.embedded_broker import start_embedded_broker
from servicekit.messaging.kafka_clients import ensure_topics
from servicekit.settings import KafkaSettings, PlatformSettings

PRODUCER_TOPIC = "bench.producer"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def bare_producer_rate(bootstrap: str, count: int) -> float:
    # A topic of its own: junk on registry.professionals.v1 would be dead-lettered by fiches.
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(PRODUCER_TOPIC, 6, 1)])
    await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, enable_idempotence=False
    )
    await producer.start()
    payload = b'{"professional_id":"00000000-0000-0000-0000-000000000000","reason":"deceased"}'
    started = time.perf_counter()
    futures = [
        await producer.send(PRODUCER_TOPIC, key=str(i).encode(), value=payload)
        for i in range(count)
    ]
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await producer.stop()
    return count / elapsed


def read_and_hash_seconds(path: Path) -> float:
    """Read every line of `path` and blake2b it: the floor of an unchanged re-import."""
    started = time.perf_counter()
    with path.open("rb") as lines:
        for line in lines:
            hashlib.blake2b(line, digest_size=16).digest()
    return time.perf_counter() - started


async def _database_url(backend: str, work: Path, service: str) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{work / f'{backend}-{service}.db'}"
    import asyncpg

    name = f"skaart_bench_{service.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def _drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


@dataclass
class MeasuredImport:
    """One `skaart registry import` run: wall time, peak RSS, and its own sync-run record."""

    seconds: float
    rss_mb: float
    events: int
    run_seconds: float
    """From the run's start to its end as the sync run records them: the import itself,
    without the process start and the final publishing after the last chunk."""

    def note(self) -> str:
        return f"run itself {self.run_seconds:.1f} s; peak RSS {self.rss_mb:.0f} MB"


async def latest_sync_run(url: str) -> tuple[dict[str, int], float]:
    """The counts and the duration (s) of registry-sync's latest run in that database."""
    engine = create_engine(url)
    async with engine.connect() as connection:
        run = (
            await connection.execute(
                sa.select(sync_runs.c.counts, sync_runs.c.started_at, sync_runs.c.finished_at)
                .order_by(sync_runs.c.started_at.desc())
                .limit(1)
            )
        ).one()
    await engine.dispose()
    return run.counts or {}, (run.finished_at - run.started_at).total_seconds()


async def _measured_import(path: Path, env: dict[str, str], url: str) -> MeasuredImport:
    seconds, rss = await asyncio.to_thread(run_import, path, env)
    counts, run_seconds = await latest_sync_run(url)
    return MeasuredImport(seconds, rss, int(counts.get("events", -1)), run_seconds)


def skaart_start_seconds(env: dict[str, str]) -> float:
    """`skaart --help` in a child process: what every import pays before it starts."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from skaart.cli import main; main()", "--help"],
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - started


async def _wait_until_published(fiches: Any, count: int) -> None:
    # fiches must have caught up with the first import before the change is timed.
    deadline = time.monotonic() + 1800
    while await published_count(fiches) < count:
        if time.monotonic() > deadline:
            raise BenchError("fiches did not publish every fiche within 30 minutes")
        await asyncio.sleep(0.5)


async def _wait_for_depublication(
    fiches: Any, before: int, expected_gone: int
) -> tuple[int, float]:
    """(fiches still published, when that number last changed) once it is stable."""
    # riziv_stopped on a two-profession person keeps them published: wait for quiet.
    deadline = time.monotonic() + 300
    last, stable_since = -1, time.perf_counter()
    while True:
        now_published = await published_count(fiches)
        if now_published != last:
            last, stable_since = now_published, time.perf_counter()
        if before - now_published >= expected_gone * 0.95 and (
            time.perf_counter() - stable_since > 2
        ):
            return last, stable_since
        if time.monotonic() > deadline:
            raise BenchError("fiches did not depublish the changed professionals in time")
        await asyncio.sleep(0.05)


async def run_backend(
    backend: str,
    kafka: KafkaSettings,
    work: Path,
    snapshots: tuple[Path, Path],
    count: int,
    producer_rate: float,
) -> list[tuple[str, str, str]]:
    first, second = snapshots
    registry_url = await _database_url(backend, work, "registry-sync")
    fiches_url = await _database_url(backend, work, "fiches")
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": str(kafka.bootstrap_servers),
        "KAFKA_ENABLE_IDEMPOTENCE": "false",
        "SKAART_DATA_DIR": str(work),
        "REGISTRY_SYNC_DATABASE_URL": registry_url,
    }
    fiches = build_fiches(
        PlatformSettings(data_dir=work), kafka, FichesSettings(database_url=fiches_url)
    )
    try:
        # The first import alone, like the bare producer it is compared with: fiches
        # consuming its 1,000,000 events beside it took a share of the 2 cores (89 s
        # instead of 64 s at 500,000 on PostgreSQL). fiches catches up before the 1%
        # change is timed, so that measure is unchanged.
        imported = await _measured_import(first, env, registry_url)
        await fiches.runtime.start()
        hashing_s = read_and_hash_seconds(first)
        start_s = skaart_start_seconds(env)
        again = await _measured_import(first, env, registry_url)
        await _wait_until_published(fiches, count)
        before = await published_count(fiches)
        changed = await _measured_import(second, env, registry_url)
        published_at = time.perf_counter()
        last, stable_since = await _wait_for_depublication(fiches, before, count // 100)
        caught_up_s = max(0.0, stable_since - published_at)
    finally:
        await fiches.runtime.stop()
        await _drop_database(registry_url)
        await _drop_database(fiches_url)
    return BackendResult(
        imported, hashing_s, start_s, again, changed, caught_up_s, before - last
    ).rows(backend, producer_rate)


@dataclass
class BackendResult:
    """What one backend measured, in the order of the table."""

    imported: MeasuredImport
    hashing_s: float
    start_s: float
    again: MeasuredImport
    changed: MeasuredImport
    caught_up_s: float
    depublished: int

    def rows(self, backend: str, producer_rate: float) -> list[tuple[str, str, str]]:
        imported, again, changed = self.imported, self.again, self.changed
        rate = imported.events / imported.seconds
        return [
            (
                f"{backend}: first import to every event published",
                f"{imported.seconds:.1f} s",
                f"{imported.events:,} events, {rate:,.0f}/s ({rate / producer_rate:.0%} of "
                f"the bare producer); {imported.note()}",
            ),
            (
                f"{backend}: reading and hashing every line (blake2b, Python)",
                f"{self.hashing_s:.2f} s",
                "baseline of the re-import, same run",
            ),
            (f"{backend}: `skaart --help` (process start)", f"{self.start_s:.1f} s", "same run"),
            (
                f"{backend}: same snapshot again",
                f"{again.seconds:.1f} s",
                f"{again.events} events, {again.seconds / self.hashing_s:.1f}x the hashing "
                f"time ({again.run_seconds / self.hashing_s:.1f}x for the run itself); "
                f"{again.note()}",
            ),
            (
                f"{backend}: 1% status changes to every change published",
                f"{changed.seconds:.1f} s",
                f"{changed.events:,} events; {changed.note()}",
            ),
            (
                f"{backend}: fiches caught up after that",
                f"{self.caught_up_s:.1f} s",
                f"{self.depublished:,} fiches depublished",
            ),
        ]


def _load(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.1f}" for value in load)


async def main(count: int, backends: list[str]) -> str:
    work = Path(tempfile.mkdtemp(prefix="skaart-bench-registry-"))
    first = work / "snapshot-1.jsonl"
    second = work / "snapshot-2.jsonl"
    write_snapshot(first, generate_professionals(count, SEED))
    write_snapshot(
        second,
        (
            record
            for record, _ in follow_up_snapshot(
                generate_professionals(count, SEED), 1, SEED, "2026-11-28T06:00:00Z", total=count
            )
        ),
    )
    rows: list[tuple[str, str, str]] = [("professionals", f"{count:,}", "")]
    for backend in backends:
        broker = await start_embedded_broker(log_path=work / f"broker-{backend}.log")
        try:
            kafka = KafkaSettings(
                bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False
            )
            await ensure_topics(kafka)
            rate = await bare_producer_rate(broker.bootstrap_servers, min(count, 200_000))
            rows.append(
                (
                    f"{backend}: bare aiokafka producer (acks=all)",
                    f"{rate:,.0f} events/s",
                    "same broker",
                )
            )
            load_before = os.getloadavg()
            measured = await run_backend(backend, kafka, work, (first, second), count, rate)
            measured.append(
                (
                    f"{backend}: load average (1, 5, 15 min), before and after",
                    f"{_load(load_before)} / {_load(os.getloadavg())}",
                    f"{os.cpu_count()} CPUs; other work on the machine counts in it",
                )
            )
            rows += measured
            # Printed as soon as a backend is done, so a later failure loses nothing.
            print("\n".join(f"| {a} | {b} | {c} |" for a, b, c in measured), flush=True)
        finally:
            broker.stop()
    return measure_table(rows)


if __name__ == "__main__":
    parser = script_parser(__doc__)
    parser.add_argument("--count", type=int, default=500_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    result = asyncio.run(main(args.count, args.backends.split(",")))
    print(result)
    write_result("national_scale.md", result)
