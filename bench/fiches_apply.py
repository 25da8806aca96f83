"""How fast fiches applies registry events, without the broker (a script, not a test).

    .venv/bin/python bench/fiches_apply.py [--count 20000] [--database-url URL]

Builds COUNT ProfessionalRegistered records as they arrive from Kafka (CloudEvents
headers, JSON value) and feeds them to fiches' real consumer (`InboxConsumer` with fiches'
subscription: decoding, inbox, prefetch, fiche writes, outbox) in batches of 500 against a
fresh database. This isolates fiches' own cost from the broker and from the rate at which
registry-sync publishes (which bounds fiches in bench/pipeline.py).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import orjson

from contracts.envelope import Envelope
from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component
from registry_sync.adapters.snapshot_files import parse_line
from registry_sync.domain.changes import registration_events
from registry_sync.handlers.apply_records import facts_of
from registry_sync.simulator.demo_data import generate_professionals
from servicekit.messaging.inbox import InboxConsumer
from servicekit.settings import KafkaSettings, PlatformSettings


def _records(count: int) -> list[SimpleNamespace]:
    records = []
    for offset, line in enumerate(generate_professionals(count, 3)):
        source = parse_line(offset, orjson.dumps(line)).record
        assert source is not None
        event = registration_events(str(uuid.uuid4()), facts_of(source), source.version)[0]
        envelope = Envelope(source="/bench", type=event.event_type, subject=event.partition_key())
        records.append(
            SimpleNamespace(
                topic=event.topic,
                partition=0,
                offset=offset,
                key=event.partition_key().encode(),
                value=event.model_dump_json().encode(),
                headers=envelope.to_headers(),
            )
        )
    return records


async def main(count: int, database_url: str | None) -> str:
    work = Path(tempfile.mkdtemp(prefix="skaart-bench-fiches-"))
    component = build_component(
        PlatformSettings(data_dir=work),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        FichesSettings(database_url=database_url),
    )
    runtime = component.runtime
    await runtime.migrate()
    records = _records(count)
    consumer = InboxConsumer(
        service="fiches",
        subscription=runtime.subscriptions[0],
        sessions=runtime.sessions,
        inbox_table=runtime.tables.inbox,
        dead_letters=None,  # type: ignore[arg-type]  # nothing fails here
    )
    started = time.perf_counter()
    for start in range(0, count, 500):
        await consumer.handle_batch(records[start : start + 500])
    elapsed = time.perf_counter() - started
    await runtime.engine.dispose()
    backend = runtime.engine.dialect.name
    return (
        f"| fiches apply rate ({backend}, no broker) | {count / elapsed:,.0f} events/s "
        f"| {count:,} registrations, batches of 500 |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(asyncio.run(main(args.count, args.database_url)))
