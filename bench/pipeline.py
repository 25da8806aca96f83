"""Benchmark of the foundation pipeline on this machine (a script, not a test).

    .venv/bin/python bench/pipeline.py [--count 100000] [--change-percent 1]

1. Baselines on the same embedded broker: raw aiokafka `getmany` consume rate (the
   ceiling) and a bare FastStream batch subscriber that does nothing.
2. First import of COUNT generated professionals with `skaart registry import` in a
   child process (its peak RSS is registry-sync's), fiches consuming in this process:
   time until every provider fiche is published, and fiches' consume rate.
3. A follow-up snapshot with CHANGE_PERCENT status changes: per-fiche latency from the
   moment registry-sync's relay published the StatusChanged record (its Kafka timestamp)
   to the moment fiches wrote the depublication (p50, p99).
Prints a Markdown table; writes it to bench/results/pipeline.md too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from contracts.events.registry import PROFESSIONALS_TOPIC
from fiches.adapters.tables import provider_fiches
from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component as build_fiches
from registry_sync.simulator.demo_data import (
    follow_up_snapshot,
    generate_professionals,
    write_snapshot,
)
from servicekit.embedded_broker import start_embedded_broker
from servicekit.messaging.kafka_clients import ensure_topics
from servicekit.settings import KafkaSettings, PlatformSettings
from servicekit.waiting import within

BASELINE_TOPIC = "bench.baseline"
SEED = 42
# Every wait is bounded: the embedded broker (Tansu) takes about 5 s for a consumer group
# join, so these leave room for that plus the work itself at 100,000 events.
JOIN_AND_CONSUME_TIMEOUT_S = 300.0
IMPORT_TIMEOUT_S = 900.0
FICHES_TIMEOUT_S = 600.0
DEPUBLICATION_TIMEOUT_S = 120.0


class BenchError(RuntimeError):
    """A step did not finish in its time; the message says which and how far it got."""


async def _bounded(awaitable: Any, timeout_s: float, what: str) -> Any:
    try:
        return await within(awaitable, timeout_s)
    except TimeoutError:
        raise BenchError(f"{what}: not done within {timeout_s:.0f} s") from None


async def _fill_baseline_topic(bootstrap: str, count: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await _bounded(admin.start(), 30, "baseline topic: admin client start")
    try:
        response = await _bounded(
            admin.create_topics([NewTopic(BASELINE_TOPIC, 6, 1)]), 30, "baseline topic creation"
        )
        for name, code, *_ in response.topic_errors:
            if code != 0:
                raise BenchError(f"could not create topic {name}: error {code}")
    finally:
        await admin.close()
    # The embedded broker refuses the idempotent producer: say so explicitly.
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, enable_idempotence=False
    )
    await _bounded(producer.start(), 30, "baseline producer start")
    try:
        payload = b'{"professional_id":"00000000-0000-0000-0000-000000000000","reason":"deceased"}'

        async def send_all() -> None:
            futures = [
                await producer.send(BASELINE_TOPIC, key=str(i).encode(), value=payload)
                for i in range(count)
            ]
            await asyncio.gather(*futures)

        await _bounded(
            send_all(), JOIN_AND_CONSUME_TIMEOUT_S, f"producing {count:,} baseline records"
        )
    finally:
        await producer.stop()


async def raw_aiokafka_rate(bootstrap: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        BASELINE_TOPIC,
        bootstrap_servers=bootstrap,
        group_id="bench-raw",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
    )
    await _bounded(consumer.start(), 30, "raw aiokafka consumer start")
    try:
        seen = 0
        first_batch = 0
        started = None
        # The group join takes ~5 s on the embedded broker (getmany returns nothing until
        # then); the clock starts at the first batch, so the join is not in the rate.
        deadline = time.monotonic() + JOIN_AND_CONSUME_TIMEOUT_S
        while seen < count:
            if time.monotonic() > deadline:
                raise BenchError(
                    f"raw aiokafka baseline: {seen:,} of {count:,} records consumed within "
                    f"{JOIN_AND_CONSUME_TIMEOUT_S:.0f} s"
                )
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            n = sum(len(v) for v in batch.values())
            if not n:
                continue
            if started is None:
                # The first batch arrived before the clock started: not in the rate.
                started = time.perf_counter()
                first_batch = n
            seen += n
            await consumer.commit()
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
    return (count - first_batch) / elapsed


async def _raw_records(message: Any) -> Any:
    # As fiches' subscriber does (servicekit.messaging.subscribers): hand the batch's
    # records over undecoded. FastStream's default decoder would parse each JSON value
    # into a dict, which then fails validation against `list[bytes]` on every batch.
    return message.raw_message


async def bare_faststream_rate(bootstrap: str, count: int) -> float:
    broker = KafkaBroker(bootstrap, logger=None)
    seen = 0
    first_batch = 0
    started: float | None = None
    done = asyncio.Event()

    @broker.subscriber(
        BASELINE_TOPIC,
        group_id="bench-faststream",
        batch=True,
        max_records=500,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
        decoder=_raw_records,
    )
    async def nothing(body: Any) -> None:
        nonlocal seen, started, first_batch
        if started is None:
            # The first batch arrived before the clock started: not in the rate.
            started = time.perf_counter()
            first_batch = len(body)
        seen += len(body)
        if seen >= count:
            done.set()

    await broker.start()
    try:
        try:
            await within(done.wait(), JOIN_AND_CONSUME_TIMEOUT_S)
        except TimeoutError:
            raise BenchError(
                f"bare FastStream baseline: {seen:,} of {count:,} records consumed within "
                f"{JOIN_AND_CONSUME_TIMEOUT_S:.0f} s"
            ) from None
        assert started is not None
        elapsed = time.perf_counter() - started
    finally:
        await broker.stop()
    return (count - first_batch) / elapsed


def run_import(path: Path, env: dict[str, str]) -> tuple[float, float]:
    """`skaart registry import` in a child process; returns (seconds, peak RSS MB)."""
    stderr_path = path.with_suffix(".import.log")
    with open(stderr_path, "wb") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from skaart.cli import main; main()",
                "registry",
                "import",
                str(path),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        process = psutil.Process(child.pid)
        peak = 0
        deadline = time.monotonic() + IMPORT_TIMEOUT_S
        while child.poll() is None:
            if time.monotonic() > deadline:
                child.kill()
                child.wait()
                raise BenchError(
                    f"`skaart registry import {path.name}` not done within "
                    f"{IMPORT_TIMEOUT_S:.0f} s; killed.\n{_tail(stderr_path)}"
                )
            try:
                peak = max(peak, process.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise BenchError(
            f"`skaart registry import {path.name}` failed with exit code {child.returncode}; "
            f"its stderr ends with:\n{_tail(stderr_path)}"
        )
    return elapsed, peak / 2**20


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


async def published_count(fiches) -> int:  # type: ignore[no-untyped-def]
    async with fiches.runtime.sessions() as session:
        return int(
            await session.scalar(
                sa.select(sa.func.count())
                .select_from(provider_fiches)
                .where(provider_fiches.c.published)
            )
            or 0
        )


async def watch_fiches(fiches, count: int) -> tuple[float, int, float]:  # type: ignore[no-untyped-def]
    """(first sighting of a published fiche, fiches seen then, moment all were published)."""
    first_at: float | None = None
    first_n = 0
    while True:
        n = await published_count(fiches)
        now = time.perf_counter()
        if n and first_at is None:
            first_at, first_n = now, n
        if n >= count:
            assert first_at is not None
            if now == first_at:
                raise BenchError(
                    "fiches published every fiche between two looks (0.1 s): too few to "
                    "measure a consume rate, raise --count"
                )
            return first_at, first_n, now
        await asyncio.sleep(0.1)


async def wait_until_consumed(kafka: KafkaSettings, fiches, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    """Until fiches' inbox holds every record of the professionals topic.

    The inbox row of an event is written in the same transaction as its effect, so this
    means every event of both imports was applied. (The broker's OffsetFetch answer is
    not one aiokafka's admin client can read, so committed offsets are not used.)
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers)
    await _bounded(consumer.start(), 30, "end-offset consumer start")
    try:
        await consumer.topics()  # loads the metadata partitions_for_topic reads
        partitions = [
            TopicPartition(PROFESSIONALS_TOPIC, p)
            for p in sorted(consumer.partitions_for_topic(PROFESSIONALS_TOPIC) or ())
        ]
        total = sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()
    inbox = fiches.runtime.tables.inbox
    names = [subscription.name for subscription in fiches.runtime.subscriptions]
    deadline = time.monotonic() + timeout_s
    while True:
        async with fiches.runtime.sessions() as session:
            applied = int(
                await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(inbox)
                    .where(inbox.c.consumer.in_(names), inbox.c.topic == PROFESSIONALS_TOPIC)
                )
                or 0
            )
        if applied >= total:
            return
        if time.monotonic() > deadline:
            raise BenchError(
                f"fiches applied {applied:,} of the {total:,} records of {PROFESSIONALS_TOPIC} "
                f"within {timeout_s:.0f} s of the second import"
            )
        await asyncio.sleep(0.05)


async def status_change_latencies(kafka: KafkaSettings, fiches) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds from each StatusChanged record's Kafka timestamp to fiches' depublication."""
    consumer = AIOKafkaConsumer(
        PROFESSIONALS_TOPIC,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id="bench-latency",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await _bounded(consumer.start(), 30, "latency consumer start")
    published_at: dict[str, float] = {}
    try:
        # Read the topic up to its end offsets as of now (everything both imports
        # published). Stopping after a few empty polls instead would stop before the
        # ~5 s group join on the embedded broker and find no record at all.
        deadline = time.monotonic() + JOIN_AND_CONSUME_TIMEOUT_S
        while not consumer.assignment():
            if time.monotonic() > deadline:
                raise BenchError("latency consumer: no partition assigned (group join)")
            await consumer.getmany(timeout_ms=200, max_records=1)
            # Records from that poll are read again: the position is reset below.
        partitions = consumer.assignment()
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(list(partitions))
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            if time.monotonic() > deadline:
                raise BenchError(
                    f"latency consumer: {PROFESSIONALS_TOPIC} not read to its end within "
                    f"{JOIN_AND_CONSUME_TIMEOUT_S:.0f} s"
                )
            batch = await consumer.getmany(timeout_ms=300, max_records=5000)
            for records in batch.values():
                for record in records:
                    event_type = dict(record.headers).get("ce_type", b"").decode()
                    if event_type.endswith("ProfessionalStatusChanged"):
                        key = record.key.decode()
                        published_at.setdefault(key, record.timestamp / 1000)
    finally:
        await consumer.stop()
    async with fiches.runtime.sessions() as session:
        rows = await session.execute(
            sa.select(provider_fiches.c.professional_id, provider_fiches.c.updated_at).where(
                ~provider_fiches.c.published
            )
        )
        latencies = []
        for professional_id, updated_at in rows:
            if professional_id in published_at:
                updated = updated_at if updated_at.tzinfo else updated_at.replace(tzinfo=UTC)
                latencies.append(updated.timestamp() - published_at[professional_id])
    return latencies


def percentile(values: list[float], q: float) -> float:
    if not values:
        raise BenchError("no depublication latency measured (no matching fiche)")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def main(count: int, change_percent: float) -> str:
    work = Path(tempfile.mkdtemp(prefix="skaart-bench-"))
    broker = await start_embedded_broker(log_path=work / "broker.log")
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False)
    rows: list[tuple[str, str, str]] = []
    fiches = None
    try:
        await _bounded(ensure_topics(kafka), 60, "creating the contract topics")
        await _fill_baseline_topic(broker.bootstrap_servers, count)
        raw = await raw_aiokafka_rate(broker.bootstrap_servers, count)
        bare = await bare_faststream_rate(broker.bootstrap_servers, count)

        first = work / "snapshot-1.jsonl"
        write_snapshot(first, generate_professionals(count, SEED))
        second = work / "snapshot-2.jsonl"
        write_snapshot(
            second,
            (
                record
                for record, _ in follow_up_snapshot(
                    generate_professionals(count, SEED),
                    change_percent,
                    SEED,
                    "2026-11-28T06:00:00Z",
                    total=count,
                )
            ),
        )
        platform = PlatformSettings(data_dir=work)
        fiches = build_fiches(platform, kafka, FichesSettings())
        await _bounded(fiches.runtime.start(), 60, "fiches start")
        await asyncio.sleep(6)  # let the consumer group settle before timing
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "KAFKA_ENABLE_IDEMPOTENCE": "false",
            "SKAART_DATA_DIR": str(work),
        }
        started = time.perf_counter()
        # Watch fiches from the start: it consumes while the child is still publishing,
        # so the first fiche appears before the import returns.
        watch = asyncio.create_task(watch_fiches(fiches, count))
        try:
            import_s, import_rss = await asyncio.to_thread(run_import, first, env)
            first_fiche_at, first_fiches, done_at = await _bounded(
                asyncio.shield(watch),
                FICHES_TIMEOUT_S,
                f"fiches publishing {count:,} provider fiches after the import finished",
            )
        finally:
            watch.cancel()
        total_s = done_at - started
        pipeline_rate = count / total_s
        # Fiches already there at the first sighting were written before the clock started.
        fiches_rate = (count - first_fiches) / (done_at - first_fiche_at)

        changed_s, changed_rss = await asyncio.to_thread(run_import, second, env)
        # Not every status change depublishes (a `riziv_stopped` person who may still
        # practise another profession keeps the fiche), so wait until fiches' consumer
        # group has committed the whole topic rather than for a number of depublications.
        await wait_until_consumed(kafka, fiches, DEPUBLICATION_TIMEOUT_S)
        latencies = await status_change_latencies(kafka, fiches)
        runtime, fiches = fiches.runtime, None
        await _bounded(runtime.stop(), 60, "fiches stop")

        rows = [
            ("professionals", f"{count:,}", ""),
            ("raw aiokafka getmany (ceiling)", f"{raw:,.0f} events/s", ""),
            ("bare FastStream batch subscriber", f"{bare:,.0f} events/s", ""),
            (
                "first import: `skaart registry import` (validate, apply, publish)",
                f"{import_s:.1f} s",
                "",
            ),
            (
                "first import: until every fiche is published",
                f"{total_s:.1f} s",
                f"{pipeline_rate:,.0f} events/s end to end",
            ),
            (
                "fiches consume rate (with database writes)",
                f"{fiches_rate:,.0f} events/s",
                f"{fiches_rate / raw:.1%} of raw, {fiches_rate / bare:.1%} of bare FastStream",
            ),
            ("registry-sync peak RSS (first import)", f"{import_rss:.0f} MB", "target < 300 MB"),
            (
                f"{change_percent:g}% status-change import",
                f"{changed_s:.1f} s",
                f"peak RSS {changed_rss:.0f} MB",
            ),
            (
                "depublication latency p50",
                f"{percentile(latencies, 50) * 1000:.0f} ms",
                f"{len(latencies)} fiches",
            ),
            (
                "depublication latency p99",
                f"{percentile(latencies, 99) * 1000:.0f} ms",
                "target < 500 ms",
            ),
        ]
    finally:
        if fiches is not None:  # a step failed: stop fiches, but do not wait forever
            try:
                await within(fiches.runtime.stop(), 30)
            except Exception as error:
                print(f"fiches did not stop cleanly: {error!r}", file=sys.stderr)
        broker.stop()
        print(f"work folder: {work}", file=sys.stderr)
    table = ["| measure | value | note |", "| --- | --- | --- |"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(table)


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
    (out / "pipeline.md").write_text(result + "\n")
