"""A stop read ahead of its turn (the registry-stops group) takes the fiche off the map at
once and leaves the rest to the in-order group, which then applies every event in turn."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.events.fiches import (
    DepublicationReason,
    ProviderFicheDepublished,
    ProviderFicheUpdated,
)
from contracts.events.registry import ProfessionalRemoved, StatusChangeReason
from fiches.domain.provider_fiche import PublicationRefused
from tests.unit.fiches.test_provider_fiche import (
    NOW,
    PROFESSIONAL_ID,
    V1,
    V2,
    nurse,
    physician,
    published_fiche,
    status_changed,
    updated,
)

DEATH = status_changed(StatusChangeReason.DECEASED, ("physician",), ())


def test_a_stop_ahead_of_its_turn_depublishes_and_keeps_the_version_for_the_in_order_path() -> None:
    fiche = published_fiche(physician())

    assert fiche.stop_ahead_of_turn(DEATH, now=NOW)  # changed: the row is written

    assert not fiche.published
    assert not fiche.may_practise
    assert fiche.depublication_reason is DepublicationReason.DECEASED
    assert [type(e) for e in fiche.events] == [ProviderFicheDepublished]
    assert fiche.registry_version == V1  # the in-order path still applies DEATH itself
    assert fiche.official_last_name == "Segers"


def test_a_removal_ahead_of_its_turn_depublishes_as_no_longer_in_the_source() -> None:
    fiche = published_fiche(physician())

    fiche.stop_ahead_of_turn(
        ProfessionalRemoved(professional_id=PROFESSIONAL_ID, source_version=V2), now=NOW
    )

    assert not fiche.published
    assert fiche.depublication_reason is DepublicationReason.NO_LONGER_IN_SOURCE


def test_the_in_order_path_then_applies_the_queued_update_and_the_stop_without_a_second_event() -> (
    None
):
    fiche = published_fiche(physician())
    fiche.stop_ahead_of_turn(DEATH, now=NOW)
    fiche.events.clear()
    between = V1 + timedelta(hours=1)  # queued before the stop: a new last name

    fiche.apply_update(updated(physician(), version=between, last_name="Segers-Peeters"))
    fiche.apply_status_change(DEATH, now=NOW)

    assert fiche.official_last_name == "Segers-Peeters"  # the queued facts are not lost
    assert not fiche.published  # the update did not put the fiche back on the map
    assert fiche.registry_version == V2
    assert not fiche.may_practise
    assert fiche.events == []  # one depublication in all: the one ahead of its turn


def test_a_stop_the_fiche_has_already_seen_changes_nothing() -> None:
    fiche = published_fiche(physician())
    reactivated_later = updated(physician(), version=V2 + timedelta(hours=1))
    fiche.apply_update(reactivated_later)
    fiche.events.clear()

    # V2: older than what the fiche shows; unchanged, so nothing to write
    assert not fiche.stop_ahead_of_turn(DEATH, now=NOW)

    assert fiche.published
    assert fiche.events == []


@pytest.mark.parametrize(
    "change",
    [
        # One of two professions stops: the other may still be practised.
        status_changed(StatusChangeReason.VISA_INACTIVE, ("nurse",), ("physician",)),
        status_changed(StatusChangeReason.REACTIVATED, ("physician",), ("physician",)),
    ],
    ids=["one-of-two-professions", "reactivation"],
)
def test_a_change_that_does_not_take_the_fiche_off_the_map_is_left_to_the_in_order_path(
    change: object,
) -> None:
    fiche = published_fiche(physician(), nurse())

    assert not fiche.stop_ahead_of_turn(change, now=NOW)  # type: ignore[arg-type]

    assert fiche.published
    assert fiche.may_practise
    assert fiche.events == []


def test_while_the_in_order_path_catches_up_the_provider_cannot_publish_again() -> None:
    fiche = published_fiche(physician())
    fiche.stop_ahead_of_turn(DEATH, now=NOW)

    with pytest.raises(PublicationRefused):
        fiche.publish_own({}, by_team=False, now=NOW)
    assert not any(isinstance(e, ProviderFicheUpdated) for e in fiche.events)


def test_a_second_stop_ahead_of_turn_changes_nothing_more() -> None:
    fiche = published_fiche(physician())
    assert fiche.stop_ahead_of_turn(DEATH, now=NOW)
    fiche.events.clear()

    removed = ProfessionalRemoved(professional_id=PROFESSIONAL_ID, source_version=V2)
    assert not fiche.stop_ahead_of_turn(removed, now=NOW)
    assert fiche.events == []
