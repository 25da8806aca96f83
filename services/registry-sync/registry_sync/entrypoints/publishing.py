"""Publishing registry-sync's outbox while a one-shot command (an import) writes to it.

The command's own relay runs beside the import and sends each chunk as soon as it
commits, instead of all events after the last chunk. It is a relay like any other: it
takes the database's relay lock, so it stays on standby while the running platform's
relay publishes this outbox (one relay per database), and it publishes in outbox order
(order per key).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from servicekit.messaging.kafka_clients import create_producer
from servicekit.messaging.relay import OutboxRelay
from servicekit.runtime import ServiceRuntime
from servicekit.settings import KafkaSettings
from servicekit.waiting import within


@asynccontextmanager
async def publishing_while_running(
    runtime: ServiceRuntime, kafka: KafkaSettings
) -> AsyncIterator[None]:
    """Run a relay for `runtime`'s outbox inside the block; no-op without a broker.

    On leaving, the relay finishes its batch and gives the lock up: what is left is
    published by whoever publishes next (`publish_pending_now`, the platform).
    """
    if not kafka.bootstrap_servers:
        yield
        return
    producer = create_producer(kafka, client_id=f"{runtime.name}-import")
    await producer.start()
    relay = OutboxRelay(
        service=runtime.name,
        table=runtime.tables.outbox,
        sessions=runtime.sessions,
        producer=producer,
    )
    runtime.outbox.on_commit(relay.wake)
    task = asyncio.create_task(relay.run(), name=f"{runtime.name}-import-relay")
    try:
        yield
    finally:
        relay.stop()
        try:
            await within(task, 60.0)
        finally:
            await producer.stop()
