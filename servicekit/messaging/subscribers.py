"""Wiring an `InboxConsumer` to a FastStream batch subscriber with explicit acknowledgement."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from itertools import chain
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from servicekit.logging import adopt_faststream_logger
from servicekit.messaging.inbox import InboxConsumer
from servicekit.messaging.kafka_clients import bootstrap_servers, security_options
from servicekit.settings import KafkaSettings

log = logging.getLogger(__name__)

BATCH_TIMEOUT_MS = 100
"""How long a poll waits for the first record of a batch (it returns as soon as one came)."""


async def _raw_records(message: Any) -> Any:
    # The inbox decodes and validates each record itself, so one malformed message
    # becomes a dead letter instead of failing FastStream's decoding of the whole batch.
    return message.raw_message


def _readable_headers(record: Any) -> Any:
    """A copy of `record` whose header values FastStream can decode as text."""
    headers = [
        (name, value.decode("utf-8", "replace").encode() if value is not None else b"")
        for name, value in record.headers or ()
    ]
    return dataclasses.replace(record, headers=headers)


async def _parse_batch_keeping_records(
    records: tuple[Any, ...], default_parser: Callable[[tuple[Any, ...]], Awaitable[Any]]
) -> Any:
    """FastStream's batch message, built from the first record only, never failing on headers.

    FastStream decodes every header value of every record as UTF-8 for its message
    metadata; one header that is not UTF-8, or that has no value, made it fail the whole
    batch (logged, offsets committed, the valid records of the batch lost). The handler
    reads the records as they came (`_raw_records`) and the inbox refuses the bad ones one
    by one, to the dead-letter topic with their original bytes, so FastStream needs only
    the metadata of the batch: it is parsed from a readable copy of the first record (the
    per-record copies and header dictionaries cost about 20 µs a record, most of what a
    read-ahead group spends on a record it skips).
    """
    message = await default_parser((_readable_headers(records[0]),))
    message.raw_message = records
    return message


def _fetch_without_idle_sleep(subscriber: Any, *, timeout_ms: int, max_records: int) -> None:
    """Replace the batch subscriber's fetch: no extra sleep after a poll that found nothing.

    FastStream 0.7.8 (pinned) sleeps `batch_timeout_ms` after every empty `getmany`, on
    top of the `getmany` that already waited that long for a record: an idle consumer then
    reacts to a new record up to 100 ms late, on every hop of the platform (a stop in the
    registry crosses two). `getmany` itself waits up to `timeout_ms` for the first record
    and returns as soon as one is fetched, so polling again at once is not a busy loop; a
    `getmany` that returns empty well before its timeout (no assignment during a
    rebalance) still waits out the rest, so that case does not spin either.
    """

    async def get_msg(consumer: Any) -> tuple[Any, ...]:
        started = time.monotonic()
        fetched = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        if fetched:
            return tuple(chain.from_iterable(fetched.values()))
        left = timeout_ms / 1000 - (time.monotonic() - started)
        if left > timeout_ms / 2000:
            await asyncio.sleep(left)
        return ()

    subscriber.get_msg = get_msg


def _security(settings: KafkaSettings) -> BaseSecurity | None:
    if settings.security_protocol == "PLAINTEXT":
        return None
    options = security_options(settings)
    ssl_context = options.get("ssl_context")
    if settings.security_protocol == "SSL":
        return BaseSecurity(ssl_context=ssl_context)
    scram = SASLScram512 if settings.sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    return scram(
        username=options["sasl_plain_username"] or "",
        password=options["sasl_plain_password"] or "",
        ssl_context=ssl_context,
    )


def create_broker(settings: KafkaSettings, client_id: str) -> KafkaBroker:
    """A FastStream broker for a service's subscribers; it never creates topics."""
    adopt_faststream_logger()
    return KafkaBroker(
        bootstrap_servers(settings),
        client_id=client_id,
        allow_auto_create_topics=False,
        acks="all",
        enable_idempotence=settings.enable_idempotence,
        security=_security(settings),
        logger=logging.getLogger(f"faststream.{client_id}"),
        graceful_timeout=15.0,
    )


def register_batch_subscriber(
    broker: KafkaBroker,
    consumer: InboxConsumer,
    *,
    group_id: str,
    topics: tuple[str, ...],
    settings: KafkaSettings,
    description: str,
) -> None:
    """Subscribe `consumer` to `topics` in `group_id`, committing offsets after each batch.

    Ack policy MANUAL: offsets are committed only after the batch's database transaction
    committed (or its failures were dead-lettered). Offset reset `earliest`: a new group
    reads the topic from its start rather than silently skipping what came before it.
    """
    max_records = consumer.subscription.batch_size or settings.consumer_batch_size
    subscriber = broker.subscriber(
        *topics,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=BATCH_TIMEOUT_MS,
        fetch_max_wait_ms=100,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        parser=_parse_batch_keeping_records,
        decoder=_raw_records,
        description=description,
    )

    _fetch_without_idle_sleep(subscriber, timeout_ms=BATCH_TIMEOUT_MS, max_records=max_records)

    @subscriber
    async def handle(records: Any, message: KafkaMessage) -> None:
        try:
            await consumer.handle_batch(records)
        except Exception:
            # The database or the dead-letter topic is unreachable: nothing of this batch
            # may be skipped, so rewind to its first record after a pause (not a hot loop).
            log.exception("batch could not be applied; it will be redelivered")
            await asyncio.sleep(settings.handler_retry_backoff_s * 10)
            await message.nack()
            return
        await message.ack()
