"""Putting events on the broker the way a producing service's relay does (tests only)."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from contracts.base import Event
from contracts.envelope import Envelope
from servicekit.settings import KafkaSettings


async def publish_events(
    kafka: KafkaSettings, *events: Event, event_id: str | None = None, source: str = "/tests"
) -> list[str]:
    """Publish each event on its topic (CloudEvents headers, its key); returns their ids.

    `event_id` gives the (single) event a chosen id, e.g. to redeliver an event.
    """
    assert event_id is None or len(events) == 1, "event_id names one event"
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    await producer.start()
    ids: list[str] = []
    try:
        for event in events:
            envelope = Envelope(
                source=source, type=event.event_type, subject=event.subject(),
                **({"id": event_id} if event_id else {}),
            )  # fmt: skip
            await producer.send_and_wait(
                event.topic,
                key=event.partition_key().encode(),
                value=event.model_dump_json().encode(),
                headers=envelope.to_headers(),
            )
            ids.append(envelope.id)
    finally:
        await producer.stop()
    return ids
