"""The baselines of bench/pipeline.py: how fast the same broker hands out records to a
raw aiokafka consumer (the ceiling) and to a bare FastStream batch subscriber."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from servicekit.waiting import within

BASELINE_TOPIC = "bench.baseline"
# Every wait is bounded: the embedded broker (Tansu) takes about 5 s for a consumer group
# join, so these leave room for that plus the work itself at 100,000 events.
JOIN_AND_CONSUME_TIMEOUT_S = 300.0


class BenchError(RuntimeError):
    """A step did not finish in its time; the message says which and how far it got."""


async def bounded(awaitable: Any, timeout_s: float, what: str) -> Any:
    try:
        return await within(awaitable, timeout_s)
    except TimeoutError:
        raise BenchError(f"{what}: not done within {timeout_s:.0f} s") from None


async def fill_baseline_topic(bootstrap: str, count: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await bounded(admin.start(), 30, "baseline topic: admin client start")
    try:
        response = await bounded(
            admin.create_topics([NewTopic(BASELINE_TOPIC, 6, 1)]), 30, "baseline topic creation"
        )
        for name, code, *_ in response.topic_errors:
            if code != 0:
                raise BenchError(f"could not create topic {name}: error {code}")
    finally:
        await admin.close()
    # The embedded broker refuses the idempotent producer: say so explicitly.
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, enable_idempotence=False
    )
    await bounded(producer.start(), 30, "baseline producer start")
    try:
        payload = b'{"professional_id":"00000000-0000-0000-0000-000000000000","reason":"deceased"}'

        async def send_all() -> None:
            futures = [
                await producer.send(BASELINE_TOPIC, key=str(i).encode(), value=payload)
                for i in range(count)
            ]
            await asyncio.gather(*futures)

        await bounded(
            send_all(), JOIN_AND_CONSUME_TIMEOUT_S, f"producing {count:,} baseline records"
        )
    finally:
        await producer.stop()


async def raw_aiokafka_rate(bootstrap: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        BASELINE_TOPIC,
        bootstrap_servers=bootstrap,
        group_id="bench-raw",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
    )
    await bounded(consumer.start(), 30, "raw aiokafka consumer start")
    try:
        seen = 0
        first_batch = 0
        started = None
        # The group join takes ~5 s on the embedded broker (getmany returns nothing until
        # then); the clock starts at the first batch, so the join is not in the rate.
        deadline = time.monotonic() + JOIN_AND_CONSUME_TIMEOUT_S
        while seen < count:
            if time.monotonic() > deadline:
                raise BenchError(
                    f"raw aiokafka baseline: {seen:,} of {count:,} records consumed within "
                    f"{JOIN_AND_CONSUME_TIMEOUT_S:.0f} s"
                )
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            n = sum(len(v) for v in batch.values())
            if not n:
                continue
            if started is None:
                # The first batch arrived before the clock started: not in the rate.
                started = time.perf_counter()
                first_batch = n
            seen += n
            await consumer.commit()
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
    return (count - first_batch) / elapsed


async def _raw_records(message: Any) -> Any:
    # As fiches' subscriber does (servicekit.messaging.subscribers): hand the batch's
    # records over undecoded. FastStream's default decoder would parse each JSON value
    # into a dict, which then fails validation against `list[bytes]` on every batch.
    return message.raw_message


async def bare_faststream_rate(bootstrap: str, count: int) -> float:
    broker = KafkaBroker(bootstrap, logger=None)
    seen = 0
    first_batch = 0
    started: float | None = None
    done = asyncio.Event()

    @broker.subscriber(
        BASELINE_TOPIC,
        group_id="bench-faststream",
        batch=True,
        max_records=500,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
        decoder=_raw_records,
    )
    async def nothing(body: Any) -> None:
        nonlocal seen, started, first_batch
        if started is None:
            # The first batch arrived before the clock started: not in the rate.
            started = time.perf_counter()
            first_batch = len(body)
        seen += len(body)
        if seen >= count:
            done.set()

    await broker.start()
    try:
        try:
            await within(done.wait(), JOIN_AND_CONSUME_TIMEOUT_S)
        except TimeoutError:
            raise BenchError(
                f"bare FastStream baseline: {seen:,} of {count:,} records consumed within "
                f"{JOIN_AND_CONSUME_TIMEOUT_S:.0f} s"
            ) from None
        assert started is not None
        elapsed = time.perf_counter() - started
    finally:
        await broker.stop()
    return (count - first_batch) / elapsed
