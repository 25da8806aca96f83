"""Events as a Kafka consumer hands them to `InboxConsumer` (without a broker).

Used by the inbox tests and by bench/fiches_apply.py, which feed the consumer directly.
"""

from __future__ import annotations

from types import SimpleNamespace

from contracts.base import Event
from contracts.envelope import Envelope


def consumed_record(
    event: Event, offset: int, *, partition: int = 0, source: str = "/tests"
) -> SimpleNamespace:
    """`event` as a consumer record at `offset`: CloudEvents headers, key, JSON value."""
    envelope = Envelope(source=source, type=event.event_type, subject=event.partition_key())
    return SimpleNamespace(
        topic=event.topic,
        partition=partition,
        offset=offset,
        key=event.partition_key().encode(),
        value=event.model_dump_json().encode(),
        headers=envelope.to_headers(),
    )
