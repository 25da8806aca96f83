"""Wiring an `InboxConsumer` to a FastStream batch subscriber with explicit acknowledgement."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
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
    """FastStream's batch parsing, but never failing on a record's headers.

    FastStream decodes every header value as UTF-8 for its message metadata; one header
    that is not UTF-8, or that has no value, made it fail the whole batch (logged, offsets
    committed, the valid records of the batch lost). It parses readable copies here; the
    handler gets the records as they came (`_raw_records`), and the inbox refuses the bad
    ones one by one, to the dead-letter topic with their original bytes.
    """
    message = await default_parser(tuple(_readable_headers(record) for record in records))
    message.raw_message = records
    return message


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
    subscriber = broker.subscriber(
        *topics,
        group_id=group_id,
        batch=True,
        max_records=consumer.subscription.batch_size or settings.consumer_batch_size,
        batch_timeout_ms=100,
        fetch_max_wait_ms=100,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        parser=_parse_batch_keeping_records,
        decoder=_raw_records,
        description=description,
    )

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
