"""Delivery guarantees on a real broker: duplicates, poison messages, crashes between commits."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from contracts.envelope import Envelope
from contracts.events.fiches import PROVIDERS_TOPIC
from contracts.events.registry import (
    PROFESSIONALS_TOPIC,
    ProfessionalRegistered,
    ProfessionRecord,
    RegistrationStatus,
)
from fiches.adapters.tables import provider_fiches
from servicekit import metrics
from servicekit.messaging.inbox import InboxConsumer
from servicekit.settings import KafkaSettings
from servicekit.waiting import within
from tests.support.infrastructure import wait_for
from tests.support.kafka_reading import header, read_topic
from tests.support.platform import running_platform

pytestmark = pytest.mark.e2e


def _registered(professional_id: str) -> ProfessionalRegistered:
    return ProfessionalRegistered(
        professional_id=professional_id,
        last_name="Segers",
        first_name="Albert",
        language="nl",
        practice_ban=False,
        deceased=False,
        professions=(
            ProfessionRecord(profession="dietitian", visa_status=RegistrationStatus.ACTIVE),
        ),
        may_practise=True,
        source_version=datetime(2026, 11, 27, tzinfo=UTC),
    )


async def _send(
    kafka: KafkaSettings,
    event: ProfessionalRegistered,
    *,
    event_id: str,
    value: bytes | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        envelope = Envelope(
            id=event_id, source="/tests", type=event.event_type, subject=event.partition_key()
        )
        await producer.send_and_wait(
            PROFESSIONALS_TOPIC,
            key=event.partition_key().encode(),
            value=value if value is not None else event.model_dump_json().encode(),
            headers=envelope.to_headers(),
        )
    finally:
        await producer.stop()


async def _fiche_count(platform, professional_id: str) -> int:  # type: ignore[no-untyped-def]
    async with platform.fiches.runtime.sessions() as session:
        return int(
            await session.scalar(
                sa.select(sa.func.count())
                .select_from(provider_fiches)
                .where(provider_fiches.c.professional_id == professional_id)
            )
            or 0
        )


async def test_the_same_event_delivered_twice_has_one_effect(
    kafka: KafkaSettings, tmp_path: Path, database_url_factory
) -> None:
    professional_id = str(uuid.uuid4())
    event_id = str(uuid.uuid4())
    duplicates = metrics.MESSAGES_DUPLICATE.labels(
        "fiches", "registry-professionals", PROFESSIONALS_TOPIC
    )
    before = duplicates._value.get()
    async with running_platform(kafka, tmp_path, database_url_factory) as platform:
        await _send(kafka, _registered(professional_id), event_id=event_id)
        await wait_for(lambda: platform.fiche_of(professional_id), timeout_s=60)
        await _send(kafka, _registered(professional_id), event_id=event_id)
        await wait_for(lambda: _async(duplicates._value.get() > before), timeout_s=60)
        fiche = await platform.fiche_of(professional_id)
        assert fiche is not None and fiche["revision"] == 1
        assert await _fiche_count(platform, professional_id) == 1
        published = [
            r
            for r in await read_topic(kafka, PROVIDERS_TOPIC)
            if (header(r, "ce_type") or "").endswith("ProviderFichePublished")
        ]
    assert len(published) == 1


async def _async(value: object) -> object:
    return value


async def test_a_malformed_message_is_dead_lettered_and_the_next_one_still_processed(
    kafka: KafkaSettings, tmp_path: Path, database_url_factory
) -> None:
    good_id = str(uuid.uuid4())
    async with running_platform(kafka, tmp_path, database_url_factory) as platform:
        await _send(
            kafka,
            _registered(str(uuid.uuid4())),
            event_id="poison-1",
            value=b'{"not": "a registration"',
        )
        await _send(kafka, _registered(good_id), event_id=str(uuid.uuid4()))
        await wait_for(lambda: platform.fiche_of(good_id), timeout_s=60)

        async def dead_letters() -> list:  # type: ignore[type-arg]
            return await read_topic(kafka, "deadletter.fiches.v1")

        parked = await wait_for(dead_letters, timeout_s=60)
    assert len(parked) == 1
    record = parked[0]
    assert record.value == b'{"not": "a registration"'
    assert header(record, "ce_id") == "poison-1"
    assert header(record, "dlq_original_topic") == PROFESSIONALS_TOPIC
    assert header(record, "dlq_original_offset") is not None
    assert header(record, "dlq_original_partition") is not None
    assert "does not match its schema" in (header(record, "dlq_error_message") or "")
    assert header(record, "dlq_consumer") == "fiches.registry-professionals"


async def test_a_consumer_killed_between_database_commit_and_offset_commit_causes_no_duplicate(
    kafka: KafkaSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url_factory
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(5)]
    applied = asyncio.Event()
    original = InboxConsumer.handle_batch

    async def die_after_database_commit(self: InboxConsumer, records: object) -> None:
        await original(self, records)  # type: ignore[arg-type]
        if self.name == "registry-professionals":  # fiches' in-order group, not read-ahead
            applied.set()
        # The process dies here: the batch is in the database, its offsets are not committed.
        raise asyncio.CancelledError

    monkeypatch.setattr(InboxConsumer, "handle_batch", die_after_database_commit)
    data_dir = tmp_path
    urls: dict[str, str] = {}

    async def same_databases(service: str) -> str:
        # The restarted consumer must find the database its first life committed to.
        if service not in urls:
            urls[service] = await database_url_factory(service)
        return urls[service]

    async with running_platform(kafka, data_dir, same_databases) as platform:
        for professional_id in ids:
            await _send(kafka, _registered(professional_id), event_id=str(uuid.uuid4()))
        await within(applied.wait(), 60)
        first_run_count = sum([await _fiche_count(platform, pid) for pid in ids])
    assert first_run_count >= 1

    monkeypatch.setattr(InboxConsumer, "handle_batch", original)
    duplicates = metrics.MESSAGES_DUPLICATE.labels(
        "fiches", "registry-professionals", PROFESSIONALS_TOPIC
    )
    before = duplicates._value.get()
    async with running_platform(kafka, data_dir, same_databases) as platform:

        async def all_applied() -> bool:
            return all([await platform.fiche_of(pid) is not None for pid in ids])

        await wait_for(all_applied, timeout_s=60)
        await wait_for(
            lambda: _async(duplicates._value.get() >= before + first_run_count), timeout_s=60
        )
        for professional_id in ids:
            assert await _fiche_count(platform, professional_id) == 1

        async def fiches_outbox_empty() -> bool:
            runtime = platform.fiches.runtime
            async with runtime.sessions() as session:
                rows = await session.scalar(
                    sa.select(sa.func.count()).select_from(runtime.tables.outbox)
                )
            return rows == 0

        # Waits for the relay to have published everything, instead of a fixed pause.
        await wait_for(fiches_outbox_empty)
        published = [
            r
            for r in await read_topic(kafka, PROVIDERS_TOPIC)
            if (header(r, "ce_type") or "").endswith("ProviderFichePublished")
        ]
    assert sorted(r.key.decode() for r in published) == sorted({r.key.decode() for r in published})
    assert len(published) == len(ids)


async def test_unreadable_headers_are_dead_lettered_and_the_rest_of_their_batch_applied(
    kafka: KafkaSettings, tmp_path: Path, database_url_factory
) -> None:
    valid_ids = [str(uuid.uuid4()) for _ in range(12)]
    bad_headers: dict[str, tuple[str, bytes | None]] = {
        "bad-latin1": ("x-origin", "Liège".encode("latin-1")),
        "bad-null": ("x-trace", None),
        "bad-ce-subject": ("ce_subject", b"\xff\xfe"),
    }
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        # Sent before the platform starts, so the consumer reads them in one batch.
        for index, professional_id in enumerate(valid_ids):
            event = _registered(professional_id)
            envelope = Envelope(
                id=str(uuid.uuid4()),
                source="/tests",
                type=event.event_type,
                subject=event.partition_key(),
            )
            await producer.send_and_wait(
                PROFESSIONALS_TOPIC,
                key=event.partition_key().encode(),
                value=event.model_dump_json().encode(),
                headers=envelope.to_headers(),
            )
            if index % 4 == 1:
                event_id, bad = list(bad_headers.items())[index // 4]
                poisoned = _registered(str(uuid.uuid4()))
                headers = [
                    (name, value)
                    for name, value in Envelope(
                        id=event_id,
                        source="/tests",
                        type=poisoned.event_type,
                        subject=poisoned.partition_key(),
                    ).to_headers()
                    if name != bad[0]
                ]
                await producer.send_and_wait(
                    PROFESSIONALS_TOPIC,
                    key=poisoned.partition_key().encode(),
                    value=poisoned.model_dump_json().encode(),
                    headers=[*headers, bad],
                )
    finally:
        await producer.stop()

    async with running_platform(kafka, tmp_path, database_url_factory) as platform:

        async def all_valid_applied() -> bool:
            return all([await platform.fiche_of(pid) is not None for pid in valid_ids])

        await wait_for(all_valid_applied, timeout_s=60)

        async def three_dead_letters() -> list:  # type: ignore[type-arg]
            parked = await read_topic(kafka, "deadletter.fiches.v1")
            return parked if len(parked) >= 3 else []

        parked = await wait_for(three_dead_letters, timeout_s=60)
    reasons = {header(record, "ce_id"): header(record, "dlq_error_message") for record in parked}
    assert set(reasons) == set(bad_headers)
    assert "'x-origin' is not UTF-8 text" in (reasons["bad-latin1"] or "")
    assert "'x-trace' has no value" in (reasons["bad-null"] or "")
    assert "'ce_subject' is not UTF-8 text" in (reasons["bad-ce-subject"] or "")
    for record in parked:
        # Parked byte for byte: the offending header is still there, unchanged.
        event_id = header(record, "ce_id")
        assert bad_headers[event_id or ""] in list(record.headers)
        assert header(record, "dlq_original_topic") == PROFESSIONALS_TOPIC
        assert header(record, "dlq_consumer") == "fiches.registry-professionals"
