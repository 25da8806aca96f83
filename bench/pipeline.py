"""Benchmark of the foundation pipeline on this machine (a script, not a test).

    .venv/bin/python bench/pipeline.py [--count 100000] [--change-percent 1]
        [--database sqlite|postgresql] [--admin-url postgresql://...]

1. Baselines on the same embedded broker: raw aiokafka `getmany` consume rate (the
   ceiling) and a bare FastStream batch subscriber that does nothing.
2. First import of COUNT generated professionals with `skaart registry import` in a
   child process (its peak RSS is registry-sync's), fiches consuming in this process:
   time until every provider fiche is published, and fiches' consume rate. fiches'
   database is an SQLite file, or with `--database postgresql` a PostgreSQL database
   named for the run (created through --admin-url, dropped at the end).
   Then, on the same registry records (the topic holds exactly those registrations),
   each in a new consumer group with nothing else running: the bare FastStream
   subscriber, the measured floor of fiches' work (bench/pipeline_floor.py: orjson and
   the same rows by driver-level executemany, on the same kind of database) and fiches'
   own consumer into a fresh database.
3. A follow-up snapshot with CHANGE_PERCENT status changes: per-fiche latency from the
   moment registry-sync's relay published the StatusChanged record (its Kafka timestamp)
   to the moment fiches wrote the depublication (p50, p99).
4. The same while an import is being consumed: a third snapshot with another
   CHANGE_PERCENT status changes among the known people and COUNT new people, their
   lines interleaved, so the status changes reach fiches among COUNT registrations.
Prints a Markdown table; writes it to bench/results/pipeline.md too.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from pipeline_baselines import (  # the script's folder, not a package
    JOIN_AND_CONSUME_TIMEOUT_S,
    BenchError,
    bare_faststream_rate,
    bounded,
    fill_baseline_topic,
    peak_rss_until_exit,
    raw_aiokafka_rate,
    same_records_rows,
)
from pipeline_floor import BenchDatabases
from script_output import measure_table, script_parser, write_result

from contracts.events.fiches import PROVIDERS_TOPIC
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
from servicekit.gc_tuning import tune_for_long_running_service
from servicekit.messaging.kafka_clients import ensure_topics
from servicekit.settings import KafkaSettings, PlatformSettings
from servicekit.waiting import within

SEED = 42
IMPORT_TIMEOUT_S = 900.0
FICHES_TIMEOUT_S = 600.0
DEPUBLICATION_TIMEOUT_S = 120.0


def run_import(path: Path, env: dict[str, str], cwd: Path | None = None) -> tuple[float, float]:
    """`skaart registry import` in a child process; returns (seconds, peak RSS MB).

    `cwd`: where it runs. `python -c` puts that folder first on `sys.path`, so a folder
    holding another checkout's `skaart` would win over PYTHONPATH: bench/first_import.py
    runs the child in its work folder."""
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
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        what = f"`skaart registry import {path.name}`"
        try:
            peak = peak_rss_until_exit(child, IMPORT_TIMEOUT_S, what)
        except BenchError as error:
            raise BenchError(f"{error}\n{_tail(stderr_path)}") from error
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
    await bounded(consumer.start(), 30, "end-offset consumer start")
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


async def read_to_end(kafka: KafkaSettings, topic: str, visit: Callable[[Any], None]) -> None:
    """Call `visit` on every record of `topic`, up to its end offsets as of now."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=f"bench-latency-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await bounded(consumer.start(), 30, "latency consumer start")
    try:
        # Stopping after a few empty polls instead would stop before the ~5 s group
        # join on the embedded broker and find no record at all.
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
                    f"latency consumer: {topic} not read to its end within "
                    f"{JOIN_AND_CONSUME_TIMEOUT_S:.0f} s"
                )
            batch = await consumer.getmany(timeout_ms=300, max_records=5000)
            for records in batch.values():
                for record in records:
                    visit(record)
    finally:
        await consumer.stop()


def record_event_type(record: Any) -> str:
    return str(dict(record.headers).get("ce_type", b"").decode())


async def depublication_moments(
    kafka: KafkaSettings, since_ms: float = 0.0
) -> dict[str, tuple[float, float, float]]:
    """Per `ProviderFicheDepublished` event id: when the registry's stop was published,
    when fiches depublished, and when the depublication reached the public topic (s).

    The stop is the `ProfessionalStatusChanged` record's Kafka timestamp; fiches' moment
    is the event's `occurred_at`, taken in the transaction that commits it (whichever of
    fiches' registry groups did it); the public topic's is the record's Kafka timestamp on
    `fiches.providers.v1`, where the directory and agencies read it. Only records
    published from `since_ms` (Kafka timestamp, milliseconds) on count.
    """
    stopped_at: dict[str, float] = {}

    def remember_stop(record: Any) -> None:
        if record_event_type(record).endswith("ProfessionalStatusChanged") and (
            record.timestamp >= since_ms
        ):
            stopped_at.setdefault(record.key.decode(), record.timestamp / 1000)

    found: dict[str, tuple[float, float, float]] = {}

    def remember_depublication(record: Any) -> None:
        if not record_event_type(record).endswith("ProviderFicheDepublished"):
            return
        payload = orjson.loads(record.value)
        started = stopped_at.get(payload["professional_id"])
        if started is None or record.timestamp < since_ms:
            return
        event_id = dict(record.headers)["ce_id"].decode()
        occurred = datetime.fromisoformat(payload["occurred_at"]).timestamp()
        found[event_id] = (started, occurred, record.timestamp / 1000)

    await read_to_end(kafka, PROFESSIONALS_TOPIC, remember_stop)
    await read_to_end(kafka, PROVIDERS_TOPIC, remember_depublication)
    return found


async def status_change_latencies(
    kafka: KafkaSettings, since_ms: float = 0.0
) -> tuple[list[float], list[float]]:
    """Seconds from each stop to fiches' depublication, and to the public topic."""
    moments = (await depublication_moments(kafka, since_ms)).values()
    return [o - s for s, o, _ in moments], [t - s for s, _, t in moments]


def write_snapshots(work: Path, count: int, change_percent: float) -> tuple[Path, Path, Path]:
    """The first import, its 1% follow-up, and the follow-up of that with COUNT new people.

    The third file interleaves the known people (another CHANGE_PERCENT stopping) with
    the new ones, line by line: its status changes are published among the registrations.
    """
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
    known = (orjson.loads(line) for line in second.read_bytes().splitlines())
    changed = follow_up_snapshot(known, change_percent, SEED + 1, "2026-11-28T07:00:00Z", count)
    # The first `count` people do not depend on the number generated: skip them.
    new_people = itertools.islice(generate_professionals(2 * count, SEED), count, None)
    third = work / "snapshot-3.jsonl"
    write_snapshot(
        third,
        itertools.chain.from_iterable(
            (old, new) for (old, _), new in zip(changed, new_people, strict=True)
        ),
    )
    return first, second, third


def percentile(values: list[float], q: float) -> float:
    if not values:
        raise BenchError("no depublication latency measured (no matching fiche)")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


Row = tuple[str, str, str]


def latency_rows(latencies: tuple[list[float], list[float]], label: str) -> list[Row]:
    """p50 and p99 of depublication latencies, in milliseconds, and p99 to the topic."""
    decided, on_topic = latencies
    return [
        (
            f"depublication latency p50{label}",
            f"{percentile(decided, 50) * 1000:.0f} ms",
            f"{len(decided)} fiches",
        ),
        (
            f"depublication latency p99{label}",
            f"{percentile(decided, 99) * 1000:.0f} ms",
            "target < 500 ms",
        ),
        (
            f"… p99 until on `fiches.providers.v1`{label}",
            f"{percentile(on_topic, 99) * 1000:.0f} ms",
            "the relay's publication included",
        ),
    ]


async def first_import_rows(  # type: ignore[no-untyped-def]
    fiches, path: Path, env: dict[str, str], count: int, raw: float, bare: float
) -> tuple[list[Row], float]:
    """Step 2: the first import, and how fast fiches published every fiche (its rate)."""
    started = time.perf_counter()
    # Watch fiches from the start: it consumes while the child is still publishing,
    # so the first fiche appears before the import returns.
    watch = asyncio.create_task(watch_fiches(fiches, count))
    try:
        import_s, import_rss = await asyncio.to_thread(run_import, path, env)
        first_fiche_at, first_fiches, done_at = await bounded(
            asyncio.shield(watch),
            FICHES_TIMEOUT_S,
            f"fiches publishing {count:,} provider fiches after the import finished",
        )
    finally:
        watch.cancel()
    total_s = done_at - started
    # Fiches already there at the first sighting were written before the clock started.
    fiches_rate = (count - first_fiches) / (done_at - first_fiche_at)
    return [
        (
            "first import: `skaart registry import` (validate, apply, publish)",
            f"{import_s:.1f} s",
            "",
        ),
        (
            "first import: until every fiche is published",
            f"{total_s:.1f} s",
            f"{count / total_s:,.0f} events/s end to end",
        ),
        (
            "fiches consume rate (with database writes)",
            f"{fiches_rate:,.0f} events/s",
            f"{fiches_rate / raw:.1%} of raw, {fiches_rate / bare:.1%} of bare FastStream",
        ),
        ("registry-sync peak RSS (first import)", f"{import_rss:.0f} MB", "target < 300 MB"),
    ], fiches_rate


async def status_change_rows(  # type: ignore[no-untyped-def]
    kafka: KafkaSettings, fiches, path: Path, env: dict[str, str], change_percent: float
) -> list[Row]:
    """Step 3: the status-change import and the depublication latencies."""
    changed_s, changed_rss = await asyncio.to_thread(run_import, path, env)
    # Not every status change depublishes (a `riziv_stopped` person who may still
    # practise another profession keeps the fiche), so wait until fiches' consumer
    # group has committed the whole topic rather than for a number of depublications.
    await wait_until_consumed(kafka, fiches, DEPUBLICATION_TIMEOUT_S)
    latencies = await status_change_latencies(kafka)
    return [
        (
            f"{change_percent:g}% status-change import",
            f"{changed_s:.1f} s",
            f"peak RSS {changed_rss:.0f} MB",
        ),
        *latency_rows(latencies, ""),
    ]


async def busy_status_change_rows(  # type: ignore[no-untyped-def]
    kafka: KafkaSettings, fiches, path: Path, env: dict[str, str], count: int, pct: float
) -> list[Row]:
    """Step 4: status changes interleaved with COUNT registrations."""
    since_ms = time.time() * 1000
    busy_s, busy_rss = await asyncio.to_thread(run_import, path, env)
    await wait_until_consumed(kafka, fiches, FICHES_TIMEOUT_S)
    latencies = await status_change_latencies(kafka, since_ms)
    return [
        (
            f"import of {count:,} new people and {pct:g}% status changes, interleaved",
            f"{busy_s:.1f} s",
            f"peak RSS {busy_rss:.0f} MB",
        ),
        *latency_rows(latencies, f" while {count:,} registrations are consumed"),
    ]


async def main(count: int, change_percent: float, database: str, admin_url: str) -> str:
    work = Path(tempfile.mkdtemp(prefix="skaart-bench-"))
    databases = BenchDatabases(database, work, admin_url)
    broker = await start_embedded_broker(log_path=work / "broker.log")
    kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False)
    rows: list[Row] = []
    fiches = None
    try:
        await bounded(ensure_topics(kafka), 60, "creating the contract topics")
        await fill_baseline_topic(broker.bootstrap_servers, count)
        raw = await raw_aiokafka_rate(broker.bootstrap_servers, count)
        bare = await bare_faststream_rate(broker.bootstrap_servers, count)

        first, second, third = write_snapshots(work, count, change_percent)
        platform = PlatformSettings(data_dir=work)
        fiches_url = await databases.url("fiches")
        fiches = build_fiches(platform, kafka, FichesSettings(database_url=fiches_url))
        tune_for_long_running_service()  # as `skaart serve fiches` does
        await bounded(fiches.runtime.start(), 60, "fiches start")
        await asyncio.sleep(6)  # let the consumer group settle before timing
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "KAFKA_ENABLE_IDEMPOTENCE": "false",
            "SKAART_DATA_DIR": str(work),
        }
        import_rows, fiches_rate = await first_import_rows(fiches, first, env, count, raw, bare)
        rows = [
            ("professionals", f"{count:,}", f"fiches on {fiches.runtime.engine.dialect.name}"),
            ("raw aiokafka getmany (ceiling)", f"{raw:,.0f} events/s", ""),
            ("bare FastStream batch subscriber", f"{bare:,.0f} events/s", ""),
            *import_rows,
            *await same_records_rows(broker.bootstrap_servers, count, fiches_rate, databases, work),
            *await status_change_rows(kafka, fiches, second, env, change_percent),
            *await busy_status_change_rows(kafka, fiches, third, env, count, change_percent),
        ]
        runtime, fiches = fiches.runtime, None
        await bounded(runtime.stop(), 60, "fiches stop")
    finally:
        if fiches is not None:  # a step failed: stop fiches, but do not wait forever
            try:
                await within(fiches.runtime.stop(), 30)
            except Exception as error:
                print(f"fiches did not stop cleanly: {error!r}", file=sys.stderr)
        broker.stop()
        await databases.drop_all()
        print(f"work folder: {work}", file=sys.stderr)
    return measure_table(rows)


if __name__ == "__main__":
    parser = script_parser(__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--change-percent", type=float, default=1.0)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "SKAART_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="PostgreSQL database to create and drop the run's databases from",
    )
    args = parser.parse_args()
    try:
        result = asyncio.run(main(args.count, args.change_percent, args.database, args.admin_url))
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        sys.exit(1)
    print(result)
    name = "pipeline.md" if args.database == "sqlite" else f"pipeline-{args.database}.md"
    write_result(name, result)
