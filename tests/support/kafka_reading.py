"""Reading a topic from its start with a plain consumer (no group), for assertions."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from servicekit.settings import KafkaSettings


async def read_topic(kafka: KafkaSettings, topic: str, *, settle_s: float = 0.3) -> list[Any]:
    """Every record currently on `topic`, in partition order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()
            ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[Any] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10

        async def behind() -> bool:
            for tp in partitions:
                if await consumer.position(tp) < end[tp]:
                    return True
            return False

        while await behind():
            batch = await consumer.getmany(timeout_ms=int(settle_s * 1000))
            for part_records in batch.values():
                records.extend(part_records)
            if loop.time() > deadline:
                break
        return records
    finally:
        await consumer.stop()


def header(record: Any, name: str) -> str | None:
    """A header's value as text."""
    for key, value in record.headers or ():
        if key == name:
            return value.decode()
    return None
