"""The stored form of a person's facts, built without validating anything twice.

An import builds the storable facts straight from the validated line and rebuilds the
fact objects from stored JSON without validation; both must be exactly what the
validated, object-first path gives, or an unchanged person would look changed.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from contracts.events.registry import (
    Convention,
    ProfessionalIdentified,
    ProfessionRecord,
    RegistrationStatus,
)
from registry_sync.adapters.snapshot_files import parse_line
from registry_sync.domain.changes import (
    ProfessionalFacts,
    identified_payload,
    registration_events,
    registration_payload,
    stored_may_practise,
)
from registry_sync.domain.person_change import PersonChange, facts_json_of, facts_of
from registry_sync.domain.source_record import SourceProfessional
from registry_sync.simulator.demo_data import generate_professionals
from servicekit.messaging.outbox import random_uuids

PEOPLE = list(generate_professionals(300, seed=5, inactive_share=0.3))


def validated(record: dict[str, Any]) -> SourceProfessional:
    line = parse_line(1, json.dumps(record).encode())
    assert line.record is not None, line.errors
    return line.record


def odd_one() -> dict[str, Any]:
    """A person with every optional field in an unusual state."""
    record = dict(PEOPLE[0])
    profession = dict(record["professions"][0])
    profession.pop("riziv_number", None)
    profession["riziv_status"] = "inactive"  # without a number: dropped
    profession["convention"] = "partially_conventioned"
    profession["diplomas"] = [{"title": "Bachelor", "date": None}, {"title": "Master"}]
    return dict(record, language=None, professions=[profession], practice_ban=True)


@pytest.mark.parametrize("record", [*PEOPLE, odd_one()])
def test_the_stored_form_built_from_the_line_is_the_stored_form_of_the_validated_facts(
    record: dict[str, Any],
) -> None:
    source = validated(record)
    facts = facts_of(source)

    stored = facts_json_of(source)

    assert stored == facts.to_json()
    assert json.loads(json.dumps(stored)) == stored  # plain JSON, storable as it is
    assert ProfessionalFacts.from_json(stored) == facts
    assert PersonChange.of(source, "ab" * 32).facts() == facts


def test_facts_rebuilt_from_stored_json_behave_as_validated_ones() -> None:
    source = validated(odd_one())
    rebuilt = ProfessionalFacts.from_json(json.loads(json.dumps(facts_json_of(source))))

    (profession,) = rebuilt.professions
    assert isinstance(profession, ProfessionRecord)
    assert profession.visa_status is RegistrationStatus.ACTIVE
    assert profession.riziv_status is None
    assert profession.convention is Convention.PARTIALLY_CONVENTIONED
    assert [d.date for d in profession.diplomas] == [None, None]
    assert rebuilt.may_practise() is False  # the practice ban
    assert rebuilt.to_json() == facts_json_of(source)


def _versions() -> list[datetime]:
    return [
        datetime(2026, 11, 28, 6, 0, tzinfo=UTC),
        datetime(2026, 11, 28, 6, 0, 0, 120_000, tzinfo=UTC),
        datetime(2026, 3, 1, 9, 30, 5, 7, tzinfo=timezone(timedelta(hours=1))),
    ]


@pytest.mark.parametrize("record", [*PEOPLE, odd_one()])
def test_a_registration_encoded_from_the_stored_form_is_the_event_s_own_json(
    record: dict[str, Any],
) -> None:
    source = validated(record)
    # As the apply pass gets it: the stored form through the spool's JSON.
    stored = orjson.loads(orjson.dumps(facts_json_of(source)))
    facts = ProfessionalFacts.from_json(stored)

    assert stored_may_practise(stored) is facts.may_practise()
    for version in [source.version, *_versions()]:
        [event] = registration_events("0b5e7c1e-6b57-4b0e-9a56-3f1f4a0c8d11", facts, version)
        assert registration_payload(event.professional_id, stored, version) == (
            event.__pydantic_serializer__.to_json(event)
        )


def test_an_identification_encoded_directly_is_the_event_s_own_json() -> None:
    event = ProfessionalIdentified(professional_id="p-1", nrn_hash="ab" * 32)
    assert identified_payload("p-1", "ab" * 32) == event.__pydantic_serializer__.to_json(event)


def test_random_uuids_are_version_4_uuids_as_text() -> None:
    ids = random_uuids(1000)
    assert len(set(ids)) == 1000
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
