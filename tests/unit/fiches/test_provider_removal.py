"""A provider who left the authentic source (ProfessionalRemoved), without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.events.fiches import DepublicationReason, ProviderFicheDepublished
from contracts.events.registry import (
    ProfessionalRegistered,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
    ProfessionRecord,
    RegistrationStatus,
    StatusChangeReason,
)
from fiches.domain.provider_fiche import ProviderFiche

V1 = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
V2 = V1 + timedelta(hours=8)
V3 = V2 + timedelta(days=1)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PROFESSIONAL_ID = "4d3b8a1e-51c2-4f0e-9a55-3c0f8e2b7d21"


def physician(visa: RegistrationStatus = RegistrationStatus.ACTIVE) -> ProfessionRecord:
    return ProfessionRecord(
        profession="physician",
        visa_status=visa,
        riziv_number="11234508003",
        riziv_status=RegistrationStatus.ACTIVE,
        qualification_code="003",
    )


def facts(
    profession: ProfessionRecord, version: datetime, last_name: str = "Segers"
) -> dict[str, object]:
    return {
        "professional_id": PROFESSIONAL_ID,
        "last_name": last_name,
        "first_name": "Albert",
        "language": "nl",
        "practice_ban": False,
        "deceased": False,
        "professions": (profession,),
        "may_practise": profession.may_practise(),
        "source_version": version,
    }


def registered(
    profession: ProfessionRecord | None = None, version: datetime = V1
) -> ProfessionalRegistered:
    return ProfessionalRegistered(**facts(profession or physician(), version))  # type: ignore[arg-type]


def removed(version: datetime = V2) -> ProfessionalRemoved:
    return ProfessionalRemoved(professional_id=PROFESSIONAL_ID, source_version=version)


def reactivated(version: datetime) -> ProfessionalStatusChanged:
    return ProfessionalStatusChanged(
        professional_id=PROFESSIONAL_ID,
        reason=StatusChangeReason.REACTIVATED,
        professions=("physician",),
        active_professions=("physician",),
        may_practise=True,
        source_version=version,
    )


def published_fiche() -> ProviderFiche:
    fiche = ProviderFiche.register(registered(), now=NOW)
    assert fiche.published
    fiche.events.clear()
    return fiche


def test_removal_depublishes_with_reason_no_longer_in_source() -> None:
    fiche = published_fiche()

    fiche.apply_removal(removed(V2), now=NOW)

    assert not fiche.published
    assert fiche.may_practise is False
    assert fiche.depublication_reason is DepublicationReason.NO_LONGER_IN_SOURCE
    assert fiche.registry_version == V2
    assert fiche.revision == 1
    assert len(fiche.events) == 1
    event = fiche.events[0]
    assert isinstance(event, ProviderFicheDepublished)
    assert event.reason is DepublicationReason.NO_LONGER_IN_SOURCE
    assert event.fiche_id == fiche.fiche_id
    assert event.professional_id == PROFESSIONAL_ID
    assert event.occurred_at == NOW


def test_a_removal_older_than_the_known_version_does_nothing() -> None:
    fiche = published_fiche()
    fiche.apply_update(ProfessionalUpdated(**facts(physician(), V2, "Creemers")), now=NOW)  # type: ignore[arg-type]
    fiche.events.clear()

    fiche.apply_removal(removed(V1), now=NOW)

    assert fiche.published
    assert fiche.may_practise is True
    assert fiche.depublication_reason is None
    assert fiche.registry_version == V2
    assert fiche.events == []


def test_removal_of_an_unpublished_fiche_emits_nothing() -> None:
    fiche = ProviderFiche.register(registered(physician(RegistrationStatus.INACTIVE)), now=NOW)
    assert not fiche.published
    assert fiche.events == []

    fiche.apply_removal(removed(V2), now=NOW)

    assert not fiche.published
    assert fiche.events == []
    assert fiche.may_practise is False
    assert fiche.registry_version == V2
    assert fiche.revision == 0


def test_a_second_removal_emits_nothing_more() -> None:
    fiche = published_fiche()
    fiche.apply_removal(removed(V2), now=NOW)
    fiche.events.clear()

    fiche.apply_removal(removed(V3), now=NOW)

    assert not fiche.published
    assert fiche.events == []
    assert fiche.depublication_reason is DepublicationReason.NO_LONGER_IN_SOURCE


def test_coming_back_with_updated_facts_and_reactivation_does_not_republish() -> None:
    fiche = published_fiche()
    fiche.apply_removal(removed(V2), now=NOW)
    fiche.events.clear()

    fiche.apply_update(ProfessionalUpdated(**facts(physician(), V3, "Creemers")), now=NOW)  # type: ignore[arg-type]
    fiche.apply_status_change(reactivated(V3), now=NOW)

    assert not fiche.published
    assert fiche.events == []
    assert fiche.revision == 1
    assert fiche.depublication_reason is DepublicationReason.NO_LONGER_IN_SOURCE
    assert fiche.official_last_name == "Creemers"
    assert fiche.may_practise is True
    assert fiche.registry_version == V3


def test_coming_back_as_registered_again_does_not_republish() -> None:
    # fiches' handler treats a repeated registration of a known person as an update.
    fiche = published_fiche()
    fiche.apply_removal(removed(V2), now=NOW)
    fiche.events.clear()
    again = registered(version=V3)

    fiche.apply_update(ProfessionalUpdated(**again.model_dump()), now=NOW)
    fiche.apply_status_change(reactivated(V3), now=NOW)

    assert not fiche.published
    assert fiche.events == []
    assert fiche.may_practise is True
    assert fiche.depublication_reason is DepublicationReason.NO_LONGER_IN_SOURCE
