"""An outbox relay in a process of its own: `python -m tests.support.relay_process URL BROKERS`.

Prints `active` once it leads (holds the relay lock), then publishes until killed. Tests
use it as the "other process" of the one-relay-per-database guarantee.
"""

from __future__ import annotations

import asyncio
import sys

import sqlalchemy as sa

from servicekit.database import create_engine, session_factory
from servicekit.messaging.kafka_clients import create_producer
from servicekit.messaging.relay import OutboxRelay
from servicekit.messaging.tables import add_messaging_tables
from servicekit.settings import KafkaSettings
from tests.support.infrastructure import wait_for

SERVICE = "tests"


async def main(database_url: str, bootstrap_servers: str) -> None:
    engine = create_engine(database_url)
    outbox, _ = add_messaging_tables(sa.MetaData())
    producer = create_producer(
        KafkaSettings(bootstrap_servers=bootstrap_servers, enable_idempotence=False),
        client_id="relay-process",
    )
    await producer.start()
    relay = OutboxRelay(
        service=SERVICE,
        table=outbox,
        sessions=session_factory(engine),
        producer=producer,
        standby_poll_s=0.1,
    )
    running = asyncio.create_task(relay.run())

    async def leading() -> bool:
        return relay.is_active

    await wait_for(leading, timeout_s=120)
    print("active", flush=True)
    await running


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
