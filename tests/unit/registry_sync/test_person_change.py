"""The stored form of a person's facts, built without validating anything twice.

An import builds the storable facts straight from the validated line and rebuilds the
fact objects from stored JSON without validation; both must be exactly what the
validated, object-first path gives, or an unchanged person would look changed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.events.registry import Convention, ProfessionRecord, RegistrationStatus
from registry_sync.adapters.snapshot_files import parse_line
from registry_sync.domain.changes import ProfessionalFacts
from registry_sync.domain.person_change import PersonChange, facts_json_of, facts_of
from registry_sync.domain.source_record import SourceProfessional
from registry_sync.simulator.demo_data import generate_professionals

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
