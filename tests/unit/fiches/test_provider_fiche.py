"""The provider fiche follows the authentic source (DOMAIN.md flow 5), without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.events.fiches import (
    DepublicationReason,
    ProviderFicheDepublished,
    ProviderFichePublished,
    ProviderFicheUpdated,
)
from contracts.events.registry import (
    Convention,
    ProfessionalRegistered,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
    ProfessionRecord,
    RegistrationStatus,
    StatusChangeReason,
)
from fiches.domain.provider_fiche import ProviderFiche

ACTIVE = RegistrationStatus.ACTIVE
INACTIVE = RegistrationStatus.INACTIVE
V1 = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
V2 = V1 + timedelta(hours=8)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PROFESSIONAL_ID = "0b6f3a52-4a8f-4a52-9a43-8f3f7c2f1e11"


def physician(
    visa: RegistrationStatus = ACTIVE, riziv: RegistrationStatus = ACTIVE
) -> ProfessionRecord:
    return ProfessionRecord(
        profession="physician",
        visa_status=visa,
        riziv_number="11234508003",
        riziv_status=riziv,
        qualification_code="003",
        convention=Convention.CONVENTIONED,
    )


def nurse(visa: RegistrationStatus = ACTIVE) -> ProfessionRecord:
    return ProfessionRecord(
        profession="nurse",
        visa_status=visa,
        riziv_number="41234535401",
        riziv_status=ACTIVE,
        qualification_code="401",
    )


def midwife(visa: RegistrationStatus = ACTIVE) -> ProfessionRecord:
    return ProfessionRecord(
        profession="midwife",
        visa_status=visa,
        riziv_number="45678934470",
        riziv_status=ACTIVE,
        qualification_code="470",
    )


def facts(
    professions: tuple[ProfessionRecord, ...],
    *,
    version: datetime = V1,
    may_practise: bool | None = None,
    practice_ban: bool = False,
    deceased: bool = False,
    last_name: str = "Segers",
) -> dict[str, object]:
    if may_practise is None:
        may_practise = (
            not practice_ban and not deceased and any(p.may_practise() for p in professions)
        )
    return {
        "professional_id": PROFESSIONAL_ID,
        "last_name": last_name,
        "first_name": "Albert",
        "language": "nl",
        "practice_ban": practice_ban,
        "deceased": deceased,
        "professions": professions,
        "may_practise": may_practise,
        "source_version": version,
    }


def registered(*professions: ProfessionRecord, **kwargs: object) -> ProfessionalRegistered:
    return ProfessionalRegistered(**facts(professions, **kwargs))  # type: ignore[arg-type]


def updated(*professions: ProfessionRecord, **kwargs: object) -> ProfessionalUpdated:
    return ProfessionalUpdated(**facts(professions, **kwargs))  # type: ignore[arg-type]


def status_changed(
    reason: StatusChangeReason,
    professions: tuple[str, ...],
    active: tuple[str, ...],
    *,
    may_practise: bool | None = None,
    version: datetime = V2,
) -> ProfessionalStatusChanged:
    return ProfessionalStatusChanged(
        professional_id=PROFESSIONAL_ID,
        reason=reason,
        professions=professions,
        active_professions=active,
        may_practise=bool(active) if may_practise is None else may_practise,
        source_version=version,
    )


def published_fiche(*professions: ProfessionRecord) -> ProviderFiche:
    """A published fiche whose publication event has been taken away already."""
    fiche = ProviderFiche.register(registered(*professions), now=NOW)
    assert fiche.published
    fiche.events.clear()
    return fiche


def test_registering_a_person_who_may_practise_publishes_revision_1() -> None:
    fiche = ProviderFiche.register(registered(physician()), now=NOW)

    assert fiche.published
    assert fiche.revision == 1
    assert len(fiche.events) == 1
    event = fiche.events[0]
    assert isinstance(event, ProviderFichePublished)
    assert event.revision == 1
    assert event.fiche_id == fiche.fiche_id
    assert event.professional_id == PROFESSIONAL_ID
    assert event.official_last_name == "Segers"
    assert event.official_first_name == "Albert"
    assert [p.profession for p in event.professions] == ["physician"]
    assert event.professions[0].riziv_number == "11234508003"
    assert event.occurred_at == NOW


def test_registering_a_person_who_may_not_practise_stays_unpublished_without_event() -> None:
    fiche = ProviderFiche.register(registered(physician(visa=INACTIVE)), now=NOW)

    assert not fiche.published
    assert fiche.revision == 0
    assert fiche.events == []
    assert fiche.may_practise is False


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (StatusChangeReason.RIZIV_STOPPED, DepublicationReason.RIZIV_STOPPED),
        (StatusChangeReason.VISA_INACTIVE, DepublicationReason.VISA_INACTIVE),
        (StatusChangeReason.PRACTICE_BAN, DepublicationReason.PRACTICE_BAN),
        (StatusChangeReason.DECEASED, DepublicationReason.DECEASED),
    ],
)
def test_each_stop_reason_depublishes_a_single_profession_provider_with_that_reason(
    reason: StatusChangeReason, expected: DepublicationReason
) -> None:
    fiche = published_fiche(physician())

    fiche.apply_status_change(status_changed(reason, ("physician",), ()), now=NOW)

    assert not fiche.published
    assert fiche.may_practise is False
    assert fiche.depublication_reason is expected
    assert len(fiche.events) == 1
    event = fiche.events[0]
    assert isinstance(event, ProviderFicheDepublished)
    assert event.reason is expected
    assert event.fiche_id == fiche.fiche_id
    assert event.professional_id == PROFESSIONAL_ID
    assert event.occurred_at == NOW


def test_nurse_and_midwife_losing_only_the_nurse_visa_stays_published() -> None:
    fiche = published_fiche(nurse(), midwife())

    fiche.apply_status_change(
        status_changed(StatusChangeReason.VISA_INACTIVE, ("nurse",), ("midwife",)), now=NOW
    )

    assert fiche.published
    assert fiche.may_practise is True
    assert fiche.depublication_reason is None
    assert fiche.events == []


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (StatusChangeReason.PRACTICE_BAN, DepublicationReason.PRACTICE_BAN),
        (StatusChangeReason.DECEASED, DepublicationReason.DECEASED),
    ],
)
def test_practice_ban_or_death_depublishes_even_when_other_professions_are_said_active(
    reason: StatusChangeReason, expected: DepublicationReason
) -> None:
    fiche = published_fiche(nurse(), midwife())

    fiche.apply_status_change(
        status_changed(reason, ("nurse", "midwife"), ("nurse", "midwife"), may_practise=True),
        now=NOW,
    )

    assert not fiche.published
    assert [type(e) for e in fiche.events] == [ProviderFicheDepublished]
    assert fiche.events[0].reason is expected  # type: ignore[attr-defined]


def test_reactivation_after_depublication_does_not_republish() -> None:
    fiche = published_fiche(physician())
    fiche.apply_status_change(
        status_changed(StatusChangeReason.VISA_INACTIVE, ("physician",), ()), now=NOW
    )
    assert not fiche.published
    fiche.events.clear()

    fiche.apply_status_change(
        status_changed(
            StatusChangeReason.REACTIVATED,
            ("physician",),
            ("physician",),
            version=V2 + timedelta(days=1),
        ),
        now=NOW,
    )

    assert fiche.events == []
    assert not fiche.published
    assert fiche.may_practise is True
    assert fiche.depublication_reason is DepublicationReason.VISA_INACTIVE
    assert fiche.revision == 1


def test_a_status_change_older_than_the_known_version_changes_nothing() -> None:
    fiche = published_fiche(physician())
    fiche.apply_update(updated(physician(), version=V2, last_name="Creemers"), now=NOW)
    fiche.events.clear()

    fiche.apply_status_change(
        status_changed(StatusChangeReason.DECEASED, ("physician",), (), version=V1), now=NOW
    )

    assert fiche.published
    assert fiche.may_practise is True
    assert fiche.registry_version == V2
    assert fiche.events == []


def test_an_update_older_than_the_known_version_changes_nothing() -> None:
    fiche = published_fiche(physician())
    fiche.apply_update(updated(physician(), version=V2, last_name="Creemers"), now=NOW)
    fiche.events.clear()

    fiche.apply_update(updated(physician(visa=INACTIVE), version=V1, last_name="Janssens"), now=NOW)

    assert fiche.official_last_name == "Creemers"
    assert fiche.professions == (physician(),)
    assert fiche.may_practise is True
    assert fiche.registry_version == V2
    assert fiche.revision == 2
    assert fiche.events == []


def test_update_of_a_published_fiche_bumps_revision_and_shows_only_practisable_professions() -> (
    None
):
    fiche = published_fiche(nurse(), midwife())

    fiche.apply_update(
        updated(nurse(visa=INACTIVE), midwife(), version=V2, last_name="Van Schelvergem"),
        now=NOW,
    )

    assert fiche.published
    assert fiche.revision == 2
    assert len(fiche.events) == 1
    event = fiche.events[0]
    assert isinstance(event, ProviderFicheUpdated)
    assert event.revision == 2
    assert event.official_last_name == "Van Schelvergem"
    assert [p.profession for p in event.professions] == ["midwife"]
    assert [p.profession for p in fiche.public_professions()] == ["midwife"]


def test_update_of_an_unpublished_fiche_stores_the_facts_without_event() -> None:
    fiche = ProviderFiche.register(registered(physician(visa=INACTIVE)), now=NOW)

    fiche.apply_update(updated(physician(visa=INACTIVE), version=V2, last_name="Creemers"))

    assert fiche.official_last_name == "Creemers"
    assert fiche.revision == 0
    assert fiche.events == []


# The provider fiche owns its own fields: edit version, published version, versions.


def test_saving_own_fields_changes_the_edit_version_only_when_something_changed() -> None:
    fiche = published_fiche(nurse())
    assert fiche.save_own({"preferred_name": "Bert"}) == ["preferred_name"]
    assert fiche.save_own({"preferred_name": "Bert"}) == []
    assert fiche.own_draft == {"preferred_name": "Bert"}
    assert fiche.own_version == 1
    assert fiche.own_published is None and fiche.own_changed


def test_publishing_own_fields_shows_them_in_the_published_event() -> None:
    fiche = published_fiche(nurse())
    fiche.events.clear()
    fiche.save_own({"preferred_name": "Bert", "languages": ["nl"]})
    fiche.publish_own(fiche.own_draft or {}, by_team=False)
    [event] = fiche.events
    assert isinstance(event, ProviderFicheUpdated)
    assert event.preferred_name == "Bert" and event.languages == ("nl",)
    assert fiche.own_published == fiche.own_draft


def test_restoring_makes_a_new_version_even_when_equal() -> None:
    fiche = published_fiche(nurse())
    fiche.save_own({"preferred_name": "Bert"})
    assert fiche.restore_own({"preferred_name": "Bert"}) == []
    assert fiche.own_version == 2


def test_a_registry_update_leaves_the_own_fields_untouched() -> None:
    fiche = published_fiche(nurse())
    fiche.own_changed = False  # as loaded from the database
    fiche.apply_update(updated(nurse(), last_name="Segers-Peeters"))
    assert not fiche.own_changed  # so the repository does not write the own columns
