"""Parking a message that cannot be processed, so the consumer can move on without losing it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from contracts.topics import dead_letter_topic
from servicekit import metrics
from servicekit.logging import redact_national_numbers

log = logging.getLogger(__name__)

_MAX_ERROR_CHARS = 2000


class DeadLetters:
    """Publishes failed messages to the service's dead-letter topic, unchanged.

    The original key, value and headers are kept byte for byte; `dlq_*` headers add the
    error and where the message came from, so an operator can replay it after a fix.
    """

    def __init__(self, *, service: str, consumer: str, producer: AIOKafkaProducer) -> None:
        self._service = service
        self._consumer = consumer
        self._producer = producer
        self.topic = dead_letter_topic(service)

    async def park(self, record: Any, error: BaseException, attempts: int) -> None:
        """Publish the record with its error; returns once the broker acknowledged it."""
        message = redact_national_numbers(f"{type(error).__name__}: {error}")[:_MAX_ERROR_CHARS]
        headers = [
            *(record.headers or ()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_consumer", f"{self._service}.{self._consumer}".encode()),
            ("dlq_error_type", type(error).__name__.encode()),
            ("dlq_error_message", message.encode()),
            ("dlq_attempts", str(attempts).encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        await self._producer.send_and_wait(
            self.topic, value=record.value, key=record.key, headers=headers
        )
        metrics.MESSAGES_DEAD_LETTERED.labels(self._service, self._consumer, record.topic).inc()
        log.error(
            "message dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "error_type": type(error).__name__,
                "dead_letter_topic": self.topic,
            },
        )
