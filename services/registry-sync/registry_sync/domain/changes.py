"""What changed for one professional between the known state and a new source record.

Pure functions: given the facts registry-sync knew and the facts the source now states,
return the events to publish. Status changes are named at the level they happened: a
practice ban or a death concerns the person (all professions), a visa or RIZIV change
concerns one profession.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from contracts.base import Event
from contracts.events.registry import (
    Convention,
    Diploma,
    ProfessionalIdentified,
    ProfessionalRegistered,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
    ProfessionRecord,
    RegistrationStatus,
    StatusChangeReason,
)


@dataclass(frozen=True)
class ProfessionalFacts:
    """What registry-sync knows of a person (no national register number)."""

    last_name: str
    first_name: str
    language: str | None
    practice_ban: bool
    deceased: bool
    professions: tuple[ProfessionRecord, ...]

    def active_professions(self) -> tuple[str, ...]:
        """Profession codes that may be practised (none at all under a ban or after death)."""
        if self.practice_ban or self.deceased:
            return ()
        return tuple(p.profession for p in self.professions if p.may_practise())

    def may_practise(self) -> bool:
        """At least one profession may be practised."""
        return bool(self.active_professions())

    def to_json(self) -> dict[str, object]:
        """Storable form."""
        return {
            "last_name": self.last_name,
            "first_name": self.first_name,
            "language": self.language,
            "practice_ban": self.practice_ban,
            "deceased": self.deceased,
            "professions": [p.model_dump(mode="json") for p in self.professions],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProfessionalFacts:
        """Inverse of `to_json`.

        Built without validation: the stored form is only ever written by `to_json` from
        facts that were validated, and rebuilding validated objects for every comparison
        was a sixth of an unchanged re-import.
        """
        return cls(
            last_name=str(data["last_name"]),
            first_name=str(data["first_name"]),
            language=data["language"] if isinstance(data["language"], str) else None,
            practice_ban=bool(data["practice_ban"]),
            deceased=bool(data["deceased"]),
            professions=tuple(_profession_from_json(p) for p in data["professions"]),
        )


def _profession_from_json(data: dict[str, Any]) -> ProfessionRecord:
    riziv_status = data.get("riziv_status")
    convention = data.get("convention")
    return ProfessionRecord.model_construct(
        profession=data["profession"],
        visa_status=RegistrationStatus(data["visa_status"]),
        riziv_number=data.get("riziv_number"),
        riziv_status=RegistrationStatus(riziv_status) if riziv_status else None,
        qualification_code=data.get("qualification_code"),
        convention=Convention(convention) if convention else None,
        diplomas=tuple(
            Diploma.model_construct(
                title=diploma["title"],
                date=date.fromisoformat(diploma["date"]) if diploma.get("date") else None,
            )
            for diploma in data.get("diplomas") or ()
        ),
    )


def _facts_payload(
    professional_id: str, facts: ProfessionalFacts, version: datetime
) -> dict[str, object]:
    return {
        "professional_id": professional_id,
        "last_name": facts.last_name,
        "first_name": facts.first_name,
        "language": facts.language,
        "practice_ban": facts.practice_ban,
        "deceased": facts.deceased,
        "professions": facts.professions,
        "may_practise": facts.may_practise(),
        "source_version": version,
    }


def registration_events(
    professional_id: str, facts: ProfessionalFacts, version: datetime
) -> list[Event]:
    """A person seen for the first time."""
    return [ProfessionalRegistered(**_facts_payload(professional_id, facts, version))]


def stored_may_practise(stored: dict[str, Any]) -> bool:
    """`ProfessionalFacts.from_json(stored).may_practise()`, on the stored form itself."""
    if stored["practice_ban"] or stored["deceased"]:
        return False
    return any(
        profession["visa_status"] == _ACTIVE and profession["riziv_status"] in (None, _ACTIVE)
        for profession in stored["professions"]
    )


_ACTIVE = RegistrationStatus.ACTIVE.value


def registration_payload(professional_id: str, stored: dict[str, Any], version: datetime) -> bytes:
    """The JSON value of `registration_events(...)`'s ProfessionalRegistered, from the
    stored form of the facts (`person_change.facts_json_of`), byte for byte what the
    event's own serialisation gives (its tests compare the two): a first import encodes
    500,000 of them.
    """
    return orjson.dumps(
        {
            "professional_id": professional_id,
            "last_name": stored["last_name"],
            "first_name": stored["first_name"],
            "language": stored["language"],
            "practice_ban": stored["practice_ban"],
            "deceased": stored["deceased"],
            "professions": stored["professions"],
            "may_practise": stored_may_practise(stored),
            "source_version": version,
        },
        option=orjson.OPT_UTC_Z,
    )


def identified_payload(professional_id: str, nrn_hash: str) -> bytes:
    """The JSON value of ProfessionalIdentified, as its own serialisation gives it."""
    return orjson.dumps({"professional_id": professional_id, "nrn_hash": nrn_hash})


def _status_changes(
    old: ProfessionalFacts, new: ProfessionalFacts
) -> list[tuple[StatusChangeReason, tuple[str, ...]]]:
    all_codes = tuple(p.profession for p in new.professions)
    changes: list[tuple[StatusChangeReason, tuple[str, ...]]] = []
    if new.deceased and not old.deceased:
        changes.append((StatusChangeReason.DECEASED, all_codes))
    if new.practice_ban and not old.practice_ban:
        changes.append((StatusChangeReason.PRACTICE_BAN, all_codes))
    old_by_code = {p.profession: p for p in old.professions}
    new_codes = {p.profession for p in new.professions}
    # A profession that vanished from the record is no longer registered: its visa ended.
    visa_stopped: list[str] = [
        p.profession for p in old.professions if p.profession not in new_codes and p.may_practise()
    ]
    riziv_stopped: list[str] = []
    for profession in new.professions:
        before = old_by_code.get(profession.profession)
        if before is None:
            continue
        if before.visa_status is RegistrationStatus.ACTIVE and (
            profession.visa_status is RegistrationStatus.INACTIVE
        ):
            visa_stopped.append(profession.profession)
        elif before.riziv_status is RegistrationStatus.ACTIVE and (
            profession.riziv_status is not RegistrationStatus.ACTIVE
        ):
            riziv_stopped.append(profession.profession)
    if visa_stopped:
        changes.append((StatusChangeReason.VISA_INACTIVE, tuple(visa_stopped)))
    if riziv_stopped:
        changes.append((StatusChangeReason.RIZIV_STOPPED, tuple(riziv_stopped)))
    newly_active = tuple(
        code for code in new.active_professions() if code not in old.active_professions()
    )
    if newly_active:
        changes.append((StatusChangeReason.REACTIVATED, newly_active))
    return changes


def change_events(
    professional_id: str, old: ProfessionalFacts, new: ProfessionalFacts, version: datetime
) -> list[Event]:
    """Events for a known person whose source record changed; empty when nothing did.

    ProfessionalUpdated carries the complete new facts whenever any fact changed (so a
    consumer never merges), followed by one ProfessionalStatusChanged per reason.
    """
    if old == new:
        return []
    events: list[Event] = [ProfessionalUpdated(**_facts_payload(professional_id, new, version))]
    active = new.active_professions()
    for reason, professions in _status_changes(old, new):
        events.append(
            ProfessionalStatusChanged(
                professional_id=professional_id,
                reason=reason,
                professions=professions,
                active_professions=active,
                may_practise=bool(active),
                source_version=version,
            )
        )
    return events


def _standing_stops(facts: ProfessionalFacts) -> list[tuple[StatusChangeReason, tuple[str, ...]]]:
    """Why a person may not practise now, as the status changes that got them there."""
    all_codes = tuple(p.profession for p in facts.professions)
    if facts.may_practise():
        return []
    stops: list[tuple[StatusChangeReason, tuple[str, ...]]] = []
    if facts.deceased:
        stops.append((StatusChangeReason.DECEASED, all_codes))
    if facts.practice_ban:
        stops.append((StatusChangeReason.PRACTICE_BAN, all_codes))
    if stops:
        return stops
    visa = tuple(
        p.profession for p in facts.professions if p.visa_status is RegistrationStatus.INACTIVE
    )
    riziv = tuple(
        p.profession
        for p in facts.professions
        if p.visa_status is RegistrationStatus.ACTIVE and not p.may_practise()
    )
    if visa:
        stops.append((StatusChangeReason.VISA_INACTIVE, visa))
    if riziv:
        stops.append((StatusChangeReason.RIZIV_STOPPED, riziv))
    return stops


def reannouncement_events(
    professional_id: str,
    nrn_hash: str,
    facts: ProfessionalFacts,
    version: datetime,
    *,
    removed: bool,
) -> list[Event]:
    """The stored state of one person, announced again (`skaart registry resync`).

    For consumers that lost events (a broker that lost its topics): the keyed-hash pairing,
    then either the removal, or the complete facts followed by the stops that keep the
    person from practising now. Everything carries the stored version, so a consumer that
    already holds this state applies it without a change: nothing newer, nothing to
    publish (fiches republishes nothing on a reactivation either).
    """
    events: list[Event] = [
        ProfessionalIdentified(professional_id=professional_id, nrn_hash=nrn_hash)
    ]
    if removed:
        # No facts first: a consumer that never knew the person must not create (and
        # publish) them only to take them down again.
        events.append(ProfessionalRemoved(professional_id=professional_id, source_version=version))
        return events
    events.append(ProfessionalUpdated(**_facts_payload(professional_id, facts, version)))
    for reason, professions in _standing_stops(facts):
        events.append(
            ProfessionalStatusChanged(
                professional_id=professional_id,
                reason=reason,
                professions=professions,
                active_professions=(),
                may_practise=False,
                source_version=version,
            )
        )
    return events
