"""What registry-sync publishes when a person's source record changes (pure, no database)."""

from __future__ import annotations

import json
from collections.abc import Callable
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.base import Event
from contracts.events.registry import (
    ProfessionalRegistered,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
    StatusChangeReason,
)
from registry_sync.adapters.snapshot_files import parse_line
from registry_sync.domain.changes import ProfessionalFacts, change_events, registration_events
from registry_sync.domain.source_record import SourceProfessional
from registry_sync.simulator.demo_data import apply_stop_reason, generate_professionals

Record = dict[str, Any]

PROFESSIONAL_ID = "5f1d8c5e-0d7e-4c55-8f1e-2b9f3c6e7a10"
VERSION = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
DEMO = list(generate_professionals(60, seed=1))


def first_record(predicate: Callable[[Record], bool]) -> Record:
    return deepcopy(next(record for record in DEMO if predicate(record)))


def single_profession_with_riziv() -> Record:
    return first_record(
        lambda r: len(r["professions"]) == 1 and "riziv_number" in r["professions"][0]
    )


def two_professions() -> Record:
    return first_record(lambda r: len(r["professions"]) == 2)


def parsed(record: Record) -> SourceProfessional:
    """The record as the snapshot reader validates it."""
    line = parse_line(1, json.dumps(record).encode())
    assert line.errors == ()
    assert line.record is not None
    return line.record


def facts_of(record: Record) -> ProfessionalFacts:
    source = parsed(record)
    return ProfessionalFacts(
        last_name=source.last_name,
        first_name=source.first_name,
        language=source.language,
        practice_ban=source.practice_ban,
        deceased=source.deceased,
        professions=tuple(p.to_record() for p in source.professions),
    )


def changes(before: Record, after: Record) -> list[Event]:
    return change_events(PROFESSIONAL_ID, facts_of(before), facts_of(after), VERSION)


def status_changes(events: list[Event]) -> list[ProfessionalStatusChanged]:
    return [e for e in events if isinstance(e, ProfessionalStatusChanged)]


def test_registration_publishes_the_complete_facts() -> None:
    record = single_profession_with_riziv()
    profession = record["professions"][0]

    events = registration_events(PROFESSIONAL_ID, facts_of(record), VERSION)

    assert len(events) == 1
    event = events[0]
    assert isinstance(event, ProfessionalRegistered)
    assert event.professional_id == PROFESSIONAL_ID
    assert event.last_name == record["last_name"]
    assert event.may_practise is True
    assert event.source_version == VERSION
    assert [p.profession for p in event.professions] == [profession["profession"]]
    assert event.professions[0].riziv_number == profession["riziv_number"]


def test_identical_facts_give_no_events() -> None:
    record = two_professions()

    assert changes(record, deepcopy(record)) == []


def test_a_name_change_gives_one_update_and_no_status_change() -> None:
    before = single_profession_with_riziv()
    after = deepcopy(before)
    after["last_name"] = "Van Schelvergem"

    events = changes(before, after)

    assert len(events) == 1
    assert isinstance(events[0], ProfessionalUpdated)
    assert events[0].last_name == "Van Schelvergem"
    assert events[0].may_practise is True
    assert events[0].source_version == VERSION


def test_an_inactive_visa_gives_an_update_and_a_visa_inactive_status_change() -> None:
    before = single_profession_with_riziv()
    code = before["professions"][0]["profession"]
    after, reason = apply_stop_reason(before, "visa_inactive")
    assert reason == "visa_inactive"

    events = changes(before, after)

    assert [type(e) for e in events] == [ProfessionalUpdated, ProfessionalStatusChanged]
    assert events[0].may_practise is False  # type: ignore[attr-defined]
    status = status_changes(events)[0]
    assert status.reason is StatusChangeReason.VISA_INACTIVE
    assert status.professions == (code,)
    assert status.active_professions == ()
    assert status.may_practise is False
    assert status.professional_id == PROFESSIONAL_ID
    assert status.source_version == VERSION


def test_a_stopped_riziv_number_gives_a_riziv_stopped_status_change() -> None:
    before = single_profession_with_riziv()
    code = before["professions"][0]["profession"]
    after, reason = apply_stop_reason(before, "riziv_stopped")
    assert reason == "riziv_stopped"

    events = changes(before, after)

    assert [type(e) for e in events] == [ProfessionalUpdated, ProfessionalStatusChanged]
    status = status_changes(events)[0]
    assert status.reason is StatusChangeReason.RIZIV_STOPPED
    assert status.professions == (code,)
    assert status.active_professions == ()
    assert status.may_practise is False


def test_a_practice_ban_concerns_all_professions() -> None:
    before = two_professions()
    codes = tuple(p["profession"] for p in before["professions"])
    after, _ = apply_stop_reason(before, "practice_ban")

    events = changes(before, after)

    assert [type(e) for e in events] == [ProfessionalUpdated, ProfessionalStatusChanged]
    assert events[0].practice_ban is True  # type: ignore[attr-defined]
    status = status_changes(events)[0]
    assert status.reason is StatusChangeReason.PRACTICE_BAN
    assert status.professions == codes
    assert status.active_professions == ()
    assert status.may_practise is False


def test_a_death_gives_a_deceased_status_change_for_all_professions() -> None:
    before = two_professions()
    codes = tuple(p["profession"] for p in before["professions"])
    after, _ = apply_stop_reason(before, "deceased")

    events = changes(before, after)

    assert [type(e) for e in events] == [ProfessionalUpdated, ProfessionalStatusChanged]
    assert events[0].deceased is True  # type: ignore[attr-defined]
    status = status_changes(events)[0]
    assert status.reason is StatusChangeReason.DECEASED
    assert status.professions == codes
    assert status.active_professions == ()
    assert status.may_practise is False


def test_losing_one_of_two_visas_names_only_that_profession_and_keeps_practising() -> None:
    before = two_professions()
    lost, kept = (p["profession"] for p in before["professions"])
    after = deepcopy(before)
    after["professions"][0]["visa_status"] = "inactive"

    events = changes(before, after)

    assert [type(e) for e in events] == [ProfessionalUpdated, ProfessionalStatusChanged]
    assert events[0].may_practise is True  # type: ignore[attr-defined]
    status = status_changes(events)[0]
    assert status.reason is StatusChangeReason.VISA_INACTIVE
    assert status.professions == (lost,)
    assert status.active_professions == (kept,)
    assert status.may_practise is True


def test_a_visa_that_comes_back_gives_a_reactivated_status_change() -> None:
    active = single_profession_with_riziv()
    code = active["professions"][0]["profession"]
    stopped, _ = apply_stop_reason(active, "visa_inactive")

    events = changes(stopped, active)

    assert [type(e) for e in events] == [ProfessionalUpdated, ProfessionalStatusChanged]
    assert events[0].may_practise is True  # type: ignore[attr-defined]
    status = status_changes(events)[0]
    assert status.reason is StatusChangeReason.REACTIVATED
    assert status.professions == (code,)
    assert status.active_professions == (code,)
    assert status.may_practise is True


def _renamed(record: Record) -> Record:
    changed = deepcopy(record)
    changed["first_name"] = "Bert"
    return changed


def _one_visa_lost(record: Record) -> Record:
    changed = deepcopy(record)
    changed["professions"][0]["visa_status"] = "inactive"
    return changed


SCENARIOS: dict[str, Callable[[Record], Record]] = {
    "renamed": _renamed,
    "one_visa_lost": _one_visa_lost,
    **{
        reason: (lambda record, reason=reason: apply_stop_reason(record, reason)[0])
        for reason in ("visa_inactive", "riziv_stopped", "practice_ban", "deceased")
    },
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("pick", [single_profession_with_riziv, two_professions])
def test_no_event_carries_the_national_register_number_or_birth_date(
    scenario: str, pick: Callable[[], Record]
) -> None:
    before = pick()
    after = SCENARIOS[scenario](before)
    ssin, birth_date = before["ssin"], before["birth_date"]
    assert parsed(before).ssin == ssin

    events = [
        *registration_events(PROFESSIONAL_ID, facts_of(before), VERSION),
        *changes(before, after),
        *changes(after, before),
    ]

    assert len(events) >= 3
    for event in events:
        payload = event.model_dump_json()
        assert ssin not in payload, type(event).__name__
        assert birth_date not in payload, type(event).__name__
        assert "ssin" not in json.loads(payload)
    stored = json.dumps(facts_of(after).to_json())
    assert ssin not in stored
    assert birth_date not in stored


def test_losing_the_last_practisable_profession_from_the_record_gives_a_status_change() -> None:
    before = two_professions()
    before["professions"][1]["visa_status"] = "inactive"
    after = deepcopy(before)
    del after["professions"][0]
    assert facts_of(before).may_practise() is True
    assert facts_of(after).may_practise() is False

    events = changes(before, after)

    assert events[0].may_practise is False  # type: ignore[attr-defined]
    stops = status_changes(events)
    assert stops, "no ProfessionalStatusChanged: the fiche would stay published"
    assert stops[-1].may_practise is False
    assert stops[-1].active_professions == ()


# --- Announcing the stored state again (skaart registry resync) ---------------------------


def reannounced(record: Record, *, removed: bool = False) -> list[tuple[str, Any]]:
    from registry_sync.domain.changes import reannouncement_events

    events = reannouncement_events(
        PROFESSIONAL_ID, "ab" * 32, facts_of(record), VERSION, removed=removed
    )
    assert all(getattr(e, "professional_id", None) == PROFESSIONAL_ID for e in events)
    return [
        (type(e).__name__, e.reason if isinstance(e, ProfessionalStatusChanged) else None)
        for e in events
    ]


def test_a_person_who_may_practise_is_reannounced_as_pairing_and_complete_facts() -> None:
    assert reannounced(single_profession_with_riziv()) == [
        ("ProfessionalIdentified", None),
        ("ProfessionalUpdated", None),
    ]


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("deceased", StatusChangeReason.DECEASED),
        ("practice_ban", StatusChangeReason.PRACTICE_BAN),
        ("visa_inactive", StatusChangeReason.VISA_INACTIVE),
        ("riziv_stopped", StatusChangeReason.RIZIV_STOPPED),
    ],
)
def test_a_stopped_person_is_reannounced_with_the_stop_that_holds(
    reason: str, expected: StatusChangeReason
) -> None:
    record, applied = apply_stop_reason(single_profession_with_riziv(), reason)
    assert applied == reason
    assert reannounced(record) == [
        ("ProfessionalIdentified", None),
        ("ProfessionalUpdated", None),
        ("ProfessionalStatusChanged", expected),
    ]


def test_a_removed_person_is_reannounced_as_a_removal_without_facts() -> None:
    assert reannounced(single_profession_with_riziv(), removed=True) == [
        ("ProfessionalIdentified", None),
        ("ProfessionalRemoved", None),
    ]
