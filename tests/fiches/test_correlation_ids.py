"""Every event fiches publishes carries the correlation id of what caused it.

Agencies and the platform team follow one change across services by `ce_correlationid`
(docs/operations.md, Logs): an event fiches publishes while consuming a registry event
carries that event's correlation id (or its `ce_id` when it has none), and an event
caused by an HTTP request carries the request's, which the response names in
`X-Correlation-Id`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from contracts.envelope import Envelope
from contracts.events.registry import (
    ProfessionalRegistered,
    ProfessionalStatusChanged,
    StatusChangeReason,
)
from fiches.adapters.tables import outbox
from fiches.entrypoints.kafka import registry_subscription
from servicekit.messaging.inbox import InboxConsumer
from tests.fiches.conftest import FichesUnderTest, profession
from tests.support.consumed_records import RecordingDeadLetters, consumed_record


def _registered(professional_id: str, name: str) -> ProfessionalRegistered:
    return ProfessionalRegistered(
        professional_id=professional_id,
        last_name=name,
        first_name=name,
        language="nl",
        practice_ban=False,
        deceased=False,
        professions=(profession("physician"),),
        may_practise=True,
        source_version=datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
        occurred_at=datetime.now(UTC),
    )


def _stopped(professional_id: str) -> ProfessionalStatusChanged:
    return ProfessionalStatusChanged(
        professional_id=professional_id,
        reason=StatusChangeReason.VISA_INACTIVE,
        professions=("physician",),
        active_professions=(),
        may_practise=False,
        source_version=datetime(2026, 11, 29, 9, 0, tzinfo=UTC),
        occurred_at=datetime.now(UTC),
    )


async def _outbox_headers(fiches: FichesUnderTest) -> list[dict[str, Any]]:
    """The CloudEvents headers of every outbox row, in the order they were written."""
    async with fiches.component.runtime.sessions() as session:
        rows = await session.execute(sa.select(outbox.c.headers).order_by(outbox.c.id))
        found = []
        for (headers,) in rows:
            pairs = orjson.loads(headers) if isinstance(headers, str) else headers
            found.append(dict(pairs))
        return found


async def test_events_of_a_registry_batch_carry_the_correlation_id_of_their_cause(
    fiches: FichesUnderTest,
) -> None:
    """One batch, three causes: each fiche event carries its own cause's id."""
    runtime = fiches.component.runtime
    consumer = InboxConsumer(
        service="fiches",
        subscription=registry_subscription(runtime.outbox),
        sessions=runtime.sessions,
        inbox_table=runtime.tables.inbox,
        dead_letters=RecordingDeadLetters(),  # type: ignore[arg-type]
        pruning=None,
    )
    ann, bert = str(uuid.uuid4()), str(uuid.uuid4())
    records = [
        consumed_record(_registered(ann, "Ann"), 0, correlation_id="import-run-1"),
        consumed_record(_registered(bert, "Bert"), 1, correlation_id="import-run-2"),
        consumed_record(_stopped(ann), 2),  # no correlation id: its own ce_id is the cause
    ]
    stop_id = Envelope.from_headers(records[2].headers).id

    await consumer.handle_batch(records)

    written = [
        (h["ce_type"].rsplit(".", 1)[-1], h["ce_subject"], h.get("ce_correlationid"))
        for h in await _outbox_headers(fiches)
    ]
    assert sorted((kind, cause) for kind, _, cause in written) == [
        ("ProviderFicheDepublished", stop_id),
        ("ProviderFichePublished", "import-run-1"),
        ("ProviderFichePublished", "import-run-2"),
    ]
    # The stop's depublication is of the fiche registered under import-run-1 (Ann's).
    subject = {cause: subject for _, subject, cause in written}
    assert subject[stop_id] == subject["import-run-1"]


async def test_events_of_an_http_write_carry_the_correlation_id_the_response_names(
    fiches: FichesUnderTest,
) -> None:
    albert = await fiches.professional("albert", ("physician",))
    before = len(await _outbox_headers(fiches))

    saved = await fiches.request(
        "PUT",
        f"/api/fiches/providers/{albert.fiche_id}/edit?publish=true",
        albert,
        json={"preferred_name": "Bert", "languages": ["nl"]},
    )

    assert saved.status_code == 200, saved.text
    correlation_id = saved.headers["X-Correlation-Id"]
    assert correlation_id
    caused = (await _outbox_headers(fiches))[before:]
    assert [h["ce_type"].rsplit(".", 1)[-1] for h in caused] == ["ProviderFicheUpdated"]
    assert caused[0]["ce_correlationid"] == correlation_id
    assert caused[0]["ce_subject"] == albert.fiche_id
    # Each request is a cause of its own.
    again = await fiches.request("GET", f"/api/fiches/providers/{albert.fiche_id}")
    assert again.headers["X-Correlation-Id"] not in ("", correlation_id)
