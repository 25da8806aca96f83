"""The baselines of bench/pipeline.py: how fast the same broker hands out records to a
raw aiokafka consumer (the ceiling) and to a bare FastStream batch subscriber, and the
measured floor of fiches' work on the registry records (`pipeline_floor`)."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from pipeline_floor import BenchDatabases, open_floor  # the script's folder

from contracts.events.registry import PROFESSIONALS_TOPIC
from servicekit.messaging.inbox import InboxConsumer
from servicekit.settings import KafkaSettings, PlatformSettings
from servicekit.waiting import within

BASELINE_TOPIC = "bench.baseline"
# Every wait is bounded: the embedded broker (Tansu) takes about 5 s for a consumer group
# join, so these leave room for that plus the work itself at 100,000 events.
JOIN_AND_CONSUME_TIMEOUT_S = 300.0


Work = Callable[[Sequence[Any]], Awaitable[None]]


class BenchError(RuntimeError):
    """A step did not finish in its time; the message says which and how far it got."""


def peak_rss_until_exit(child: subprocess.Popen[bytes], timeout_s: float, what: str) -> int:
    """Wait for a child process, sampling its RSS with its own children's (`skaart registry
    import` publishes from a second process); the peak of the sum in bytes. Killed after
    `timeout_s`, with a BenchError naming `what`."""
    process = psutil.Process(child.pid)
    peak = 0
    deadline = time.monotonic() + timeout_s
    descendants: list[psutil.Process] = []
    listed_at = 0.0
    while child.poll() is None:
        if time.monotonic() > deadline:
            child.kill()
            child.wait()
            raise BenchError(f"{what} not done within {timeout_s:.0f} s; killed")
        try:
            if time.monotonic() - listed_at > 0.5:
                # Listing children reads every process's /proc entry (about 1 ms): in the
                # benchmark's own process, twice a second is enough for a process that
                # lives for seconds.
                descendants, listed_at = process.children(recursive=True), time.monotonic()
            peak = max(peak, _tree_rss(process, descendants))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    return peak


def _tree_rss(process: psutil.Process, descendants: list[psutil.Process]) -> int:
    total = process.memory_info().rss
    for descendant in descendants:
        try:
            total += descendant.memory_info().rss
        except psutil.NoSuchProcess:
            continue  # it ended between the listing and the reading
    return total


async def bounded(awaitable: Any, timeout_s: float, what: str) -> Any:
    try:
        return await within(awaitable, timeout_s)
    except TimeoutError:
        raise BenchError(f"{what}: not done within {timeout_s:.0f} s") from None


async def fill_baseline_topic(bootstrap: str, count: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await bounded(admin.start(), 30, "baseline topic: admin client start")
    try:
        response = await bounded(
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
    await bounded(producer.start(), 30, "baseline producer start")
    try:
        payload = b'{"professional_id":"00000000-0000-0000-0000-000000000000","reason":"deceased"}'

        async def send_all() -> None:
            futures = [
                await producer.send(BASELINE_TOPIC, key=str(i).encode(), value=payload)
                for i in range(count)
            ]
            await asyncio.gather(*futures)

        await bounded(
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
    await bounded(consumer.start(), 30, "raw aiokafka consumer start")
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
        if started is None:
            raise RuntimeError("no record arrived: nothing to measure")
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
    """Records a second through a bare FastStream batch subscriber (the baseline topic)."""
    return (await subscriber_rate(bootstrap, count))[0]


async def subscriber_rate(
    bootstrap: str,
    count: int,
    *,
    topic: str = BASELINE_TOPIC,
    group_id: str = "bench-faststream",
    work: Work | None = None,
) -> tuple[float, float]:
    """(records a second, this process's CPU µs a record) through a FastStream batch
    subscriber doing `work` on each batch (nothing by default: the bare subscriber)
    before FastStream commits its offsets. The CPU time counts every thread of this
    process (aiosqlite's too), not the broker's nor PostgreSQL's: on a shared machine it
    moves much less than the rate."""
    broker = KafkaBroker(bootstrap, logger=None)
    seen = 0
    first_batch = 0
    started: float | None = None
    started_cpu = 0.0
    done = asyncio.Event()

    @broker.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=500,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
        decoder=_raw_records,
    )
    async def nothing(body: Any) -> None:
        nonlocal seen, started, started_cpu, first_batch
        if work is not None:
            await work(body)
        if started is None:
            # The first batch arrived before the clock started: not in the rate.
            started, started_cpu = time.perf_counter(), time.process_time()
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
                f"FastStream subscriber on {topic}: {seen:,} of {count:,} records consumed within "
                f"{JOIN_AND_CONSUME_TIMEOUT_S:.0f} s"
            ) from None
        assert started is not None
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - started_cpu
    finally:
        await broker.stop()
    return (count - first_batch) / elapsed, cpu / (count - first_batch) * 1e6


async def fresh_fiches_runtime(database_url: str, data_dir: Path) -> Any:
    """fiches' runtime on a fresh database with its schema (migrated, not started)."""
    from fiches.config import FichesSettings
    from fiches.entrypoints.app import build_component

    component = build_component(
        PlatformSettings(data_dir=data_dir),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),  # never started: no broker needed
        FichesSettings(database_url=database_url),
    )
    await component.runtime.migrate()
    return component.runtime


async def same_records_rows(
    bootstrap: str, count: int, fiches_rate: float, databases: BenchDatabases, work: Path
) -> list[tuple[str, str, str]]:
    """Step 2b: three FastStream batch subscribers on the registry records fiches consumed.

    The professionals topic then holds exactly the COUNT registrations of the first
    import. Each subscriber reads all of them in a new consumer group, with nothing else
    running: the bare one; the floor (`pipeline_floor`); fiches' own consumer (decoding,
    inbox, fiche writes, outbox) into a fresh database of the same kind as the run's.
    """
    run = uuid.uuid4().hex[:8]
    bare, bare_cpu = await subscriber_rate(
        bootstrap, count, topic=PROFESSIONALS_TOPIC, group_id=f"bench-bare-{run}"
    )
    floor_rate, floor_cpu = await _floor_rate(bootstrap, count, databases, work, run)
    replay, replay_cpu = await _fiches_rate(bootstrap, count, databases, work, run)
    kind = "sqlite3" if databases.kind == "sqlite" else "asyncpg"
    return [
        (
            "bare FastStream batch subscriber on the registry records",
            f"{bare:,.0f} events/s",
            f"the {count:,} registrations fiches consumed, nothing else running; "
            f"{bare_cpu:.0f} µs CPU an event",
        ),
        (
            f"floor: orjson decoding, fiche + outbox + inbox rows by {kind} `executemany`, "
            "one transaction per batch",
            f"{floor_rate:,.0f} events/s",
            f"{floor_rate / bare:.1%} of bare on the same records; {floor_cpu:.0f} µs CPU",
        ),
        (
            "fiches' consumer on the same records (no import running)",
            f"{replay:,.0f} events/s",
            f"{replay / bare:.1%} of bare, {replay / floor_rate:.1%} of the floor; "
            f"{replay_cpu:.0f} µs CPU",
        ),
        (
            "fiches consume rate during the import (above) against the floor",
            f"{fiches_rate / floor_rate:.1%}",
            f"{fiches_rate / bare:.2%} of bare on the same records",
        ),
    ]


async def _floor_rate(
    bootstrap: str, count: int, databases: BenchDatabases, work: Path, run: str
) -> tuple[float, float]:
    floor_url = await databases.url("floor")
    floor_runtime = await fresh_fiches_runtime(floor_url, work / "floor")
    await floor_runtime.engine.dispose()
    floor = await open_floor(floor_url)
    try:
        return await subscriber_rate(
            bootstrap,
            count,
            topic=PROFESSIONALS_TOPIC,
            group_id=f"bench-floor-{run}",
            work=floor.write_batch,
        )
    finally:
        await floor.close()


async def _fiches_rate(
    bootstrap: str, count: int, databases: BenchDatabases, work: Path, run: str
) -> tuple[float, float]:
    runtime = await fresh_fiches_runtime(await databases.url("replay"), work / "replay")
    consumer = InboxConsumer(
        service="fiches",
        subscription=runtime.subscriptions[0],
        sessions=runtime.sessions,
        inbox_table=runtime.tables.inbox,
        dead_letters=None,  # type: ignore[arg-type]  # registrations of the import: none fail
    )
    try:
        return await subscriber_rate(
            bootstrap,
            count,
            topic=PROFESSIONALS_TOPIC,
            group_id=f"bench-fiches-{run}",
            work=consumer.handle_batch,
        )
    finally:
        await runtime.engine.dispose()
