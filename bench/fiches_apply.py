"""How fast fiches applies registry events, without the broker (a script, not a test).

    .venv/bin/python bench/fiches_apply.py [--count 20000] [--database-url URL]
        [--gc tuned|default]

Builds COUNT ProfessionalRegistered records as they arrive from Kafka (CloudEvents
headers, JSON value) and feeds them to fiches' real consumer (`InboxConsumer` with fiches'
subscription: decoding, inbox, prefetch, fiche writes, outbox) in batches of 500 against a
fresh database, then a practice ban for each of them (load, depublish, update). This
isolates fiches' own cost from the broker and from the rate at which registry-sync
publishes (which bounds fiches in bench/pipeline.py). Besides the rate, it prints the
process CPU time per event: on a shared machine the wall-clock rate moves with the
neighbours' load, the CPU cost much less. `--gc tuned` (the default) tunes the garbage
collector as `skaart serve` and `skaart up` do (servicekit/gc_tuning.py); `--gc default`
leaves CPython's defaults, to measure what the tuning buys.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import orjson

from contracts.events.registry import ProfessionalStatusChanged, StatusChangeReason
from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component
from registry_sync.adapters.snapshot_files import parse_line
from registry_sync.domain.changes import registration_events
from registry_sync.handlers.apply_records import facts_of
from registry_sync.simulator.demo_data import generate_professionals
from servicekit.gc_tuning import tune_for_long_running_service
from servicekit.messaging.inbox import InboxConsumer
from servicekit.settings import KafkaSettings, PlatformSettings

# The repository root, for the record builder the inbox tests use too.
sys.path.append(str(Path(__file__).resolve().parents[1]))
from tests.support.consumed_records import consumed_record


def _records(count: int) -> tuple[list[SimpleNamespace], list[SimpleNamespace]]:
    """(registrations, a practice ban for each of them)."""
    registrations, bans = [], []
    banned_at = datetime(2030, 1, 1, tzinfo=UTC)
    for offset, line in enumerate(generate_professionals(count, 3)):
        source = parse_line(offset, orjson.dumps(line)).record
        assert source is not None
        professional_id = str(uuid.uuid4())
        event = registration_events(professional_id, facts_of(source), source.version)[0]
        registrations.append(consumed_record(event, offset, source="/bench"))
        ban = ProfessionalStatusChanged(
            professional_id=professional_id,
            reason=StatusChangeReason.PRACTICE_BAN,
            professions=(),
            active_professions=(),
            may_practise=False,
            source_version=banned_at,
        )
        bans.append(consumed_record(ban, count + offset, source="/bench"))
    return registrations, bans


async def _feed(consumer: InboxConsumer, records: list[SimpleNamespace]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) to apply `records` in batches of 500."""
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(records), 500):
        await consumer.handle_batch(records[start : start + 500])
    return time.perf_counter() - wall, time.process_time() - cpu


def _decoding_floor(consumer: InboxConsumer, records: list[SimpleNamespace]) -> str:
    """What reading alone costs: header check, CloudEvents envelope, payload validation.

    No consumer that refuses bad records one by one does less per event; it bounds the
    rate of the whole path from above, before any database work.
    """
    cpu = time.process_time()
    for record in records:
        consumer._decode(record)
    per_event = (time.process_time() - cpu) / len(records)
    return (
        f"| decoding alone (headers, envelope, payload validation) | {1 / per_event:,.0f} "
        f"events/s | {per_event * 1e6:,.0f} µs CPU per event |"
    )


async def main(count: int, database_url: str | None, gc_mode: str) -> str:
    work = Path(tempfile.mkdtemp(prefix="skaart-bench-fiches-"))
    component = build_component(
        PlatformSettings(data_dir=work),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        FichesSettings(database_url=database_url),
    )
    runtime = component.runtime
    await runtime.migrate()
    registrations, bans = _records(count)
    if gc_mode == "tuned":
        tune_for_long_running_service()
    consumer = InboxConsumer(
        service="fiches",
        subscription=runtime.subscriptions[0],
        sessions=runtime.sessions,
        inbox_table=runtime.tables.inbox,
        dead_letters=None,  # type: ignore[arg-type]  # nothing fails here
    )
    rows = [_decoding_floor(consumer, registrations)]
    for what, records in (("registrations", registrations), ("practice bans", bans)):
        wall, cpu = await _feed(consumer, records)
        rows.append(
            f"| fiches apply rate ({runtime.engine.dialect.name}, no broker): {what} "
            f"| {count / wall:,.0f} events/s | {cpu / count * 1e6:,.0f} µs CPU per event |"
        )
    await runtime.engine.dispose()
    return "\n".join(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--gc", choices=("tuned", "default"), default="tuned")
    args = parser.parse_args()
    print(asyncio.run(main(args.count, args.database_url, args.gc)))
