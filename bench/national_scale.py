"""Benchmark of registry-sync at national scale (a script, not a test).

    .venv/bin/python bench/national_scale.py [--count 500000] [--backends sqlite,postgresql]

Per database backend, on one embedded broker, with `skaart registry import` in a child
process (it validates, applies and publishes every event before it exits; its peak RSS is
registry-sync's) and fiches consuming in this process:
1. first import of COUNT generated professionals, to every event published;
2. the same snapshot again (must publish 0 events);
3. a 1% status-change snapshot, to every change published; then how long until fiches
   has depublished every affected fiche.
Beside them, the baselines of the same run: a bare aiokafka producer's rate (acks=all)
on the same broker, and the time to read and hash (blake2b) every line of the snapshot
in Python, which bounds what skipping unchanged lines by their digest can reach.
Prints a Markdown table; writes it to bench/results/national_scale.md too.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

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


async def _last_run_events(url: str) -> int:
    engine = create_engine(url)
    async with engine.connect() as connection:
        counts = await connection.scalar(
            sa.select(sync_runs.c.counts).order_by(sync_runs.c.started_at.desc()).limit(1)
        )
    await engine.dispose()
    return int((counts or {}).get("events", -1))


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
    await fiches.runtime.start()
    try:
        first_s, first_rss = await asyncio.to_thread(run_import, first, env)
        first_events = await _last_run_events(registry_url)
        hashing_s = read_and_hash_seconds(first)
        again_s, again_rss = await asyncio.to_thread(run_import, first, env)
        again_events = await _last_run_events(registry_url)
        # fiches must have caught up with the first import before the change is timed.
        deadline = time.monotonic() + 1800
        while await published_count(fiches) < count:
            if time.monotonic() > deadline:
                raise BenchError("fiches did not publish every fiche within 30 minutes")
            await asyncio.sleep(0.5)
        before = await published_count(fiches)
        change_s, change_rss = await asyncio.to_thread(run_import, second, env)
        change_events = await _last_run_events(registry_url)
        published_at = time.perf_counter()
        expected_gone = count // 100
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
                break
            if time.monotonic() > deadline:
                raise BenchError("fiches did not depublish the changed professionals in time")
            await asyncio.sleep(0.05)
        caught_up_s = max(0.0, stable_since - published_at)
    finally:
        await fiches.runtime.stop()
        await _drop_database(registry_url)
        await _drop_database(fiches_url)
    return [
        (
            f"{backend}: first import to every event published",
            f"{first_s:.1f} s",
            f"{first_events:,} events, {first_events / first_s:,.0f}/s "
            f"({first_events / first_s / producer_rate:.0%} of the bare producer); "
            f"peak RSS {first_rss:.0f} MB",
        ),
        (
            f"{backend}: reading and hashing every line (blake2b, Python)",
            f"{hashing_s:.2f} s",
            "baseline of the re-import, same run",
        ),
        (
            f"{backend}: same snapshot again",
            f"{again_s:.1f} s",
            f"{again_events} events, {again_s / hashing_s:.1f}x the hashing time; "
            f"peak RSS {again_rss:.0f} MB",
        ),
        (
            f"{backend}: 1% status changes to every change published",
            f"{change_s:.1f} s",
            f"{change_events:,} events; peak RSS {change_rss:.0f} MB",
        ),
        (
            f"{backend}: fiches caught up after that",
            f"{caught_up_s:.1f} s",
            f"{before - last:,} fiches depublished",
        ),
    ]


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
            measured = await run_backend(backend, kafka, work, (first, second), count, rate)
            rows += measured
            # Printed as soon as a backend is done, so a later failure loses nothing.
            print("\n".join(f"| {a} | {b} | {c} |" for a, b, c in measured), flush=True)
        finally:
            broker.stop()
    table = ["| measure | value | note |", "| --- | --- | --- |"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=500_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    result = asyncio.run(main(args.count, args.backends.split(",")))
    print(result)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "national_scale.md").write_text(result + "\n")
