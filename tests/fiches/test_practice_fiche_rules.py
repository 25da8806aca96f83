"""The practice fiche's rules, on the aggregate (DOMAIN.md: flow 5 and "Rules that follow").

The first test takes the path the running service takes: the registry event goes through
fiches' own handlers, the practice fiche is loaded by its repository and read publicly.
The others hold the aggregate's rules without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from contracts.events.fiches import (
    OfferLinked,
    OfferUnlinked,
    PracticeFichePublished,
    PracticeManagersChanged,
    ProviderFicheDepublished,
)
from contracts.events.registry import StatusChangeReason
from fiches.adapters.practice_repository import PracticeFicheRepository
from fiches.domain.practice_fiche import LinkedProvider, OfferLink, PracticeData, PracticeFiche
from fiches.domain.refusals import Conflict, Forbidden, Invalid, NotFound
from tests.fiches.conftest import FichesUnderTest
from tests.fiches.test_guide_scenarios import WARMSTE_TEAM, create, public_blocks
from tests.unit.fiches.test_provider_fiche import (
    NOW,
    nurse,
    physician,
    published_fiche,
    status_changed,
)


async def test_a_provider_losing_their_visa_leaves_the_practice_published(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    nele = await fiches.professional("nele", ("nurse",), first="Nele", last="Van Schelvergem")
    practice_id = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    url = f"/api/fiches/practices/{practice_id}"
    granted = await fiches.request("POST", f"{url}/managers", marc, json={"email": nele.email})
    assert granted.status_code == 200, granted.text
    linked = await fiches.request(
        "POST", f"{url}/offers?publish=true", nele, json={"professions": ["nurse"]}
    )
    assert linked.status_code == 200, linked.text

    await fiches.visa_ends(marc)

    async with fiches.component.runtime.sessions() as session:
        practice = await PracticeFicheRepository(session).get(practice_id, lock=False)
    assert practice is not None
    assert practice.published and not practice.removed
    assert {(o.professional_id, o.profession) for o in practice.offers if o.in_published} == {
        (marc.professional_id, "physician"),
        (nele.professional_id, "nurse"),
    }
    assert practice.public_offer_blocks() == {"nurse": [nele.fiche_id]}
    assert await public_blocks(fiches, practice_id) == {"nurse": {nele.professional_id}}
    assert "PracticeFicheDepublished" not in await fiches.event_types()


def test_visa_end_depublishes_provider_but_not_practice() -> None:
    """Moved from tests/unit/fiches/test_provider_fiche.py: the same assertions, on the
    practice fiche aggregate whose links carry their provider's publication state."""
    provider = published_fiche(physician())
    colleague = published_fiche(nurse())
    practice = _practice(
        _link(provider.fiche_id, provider.professional_id, "physician"),
        _link(colleague.fiche_id, colleague.professional_id, "nurse"),
    )

    provider.apply_status_change(
        status_changed(StatusChangeReason.VISA_INACTIVE, ("physician",), ()), now=NOW
    )
    assert any(isinstance(e, ProviderFicheDepublished) for e in provider.events)
    # What the repository loads: each link knows whether its provider is published now.
    for offer in practice.offers:
        offer.provider_published = offer.provider_fiche_id != provider.fiche_id

    assert not provider.published
    assert practice.published
    assert {o.provider_fiche_id for o in practice.offers} == {
        provider.fiche_id,
        colleague.fiche_id,
    }
    visible = {i for ids in practice.public_offer_blocks().values() for i in ids}
    assert visible == {colleague.fiche_id}


@dataclass(frozen=True)
class Someone:
    user_id: str
    is_team: bool = False
    is_professional: bool = False
    professions: tuple[str, ...] = ()


MARC = Someone("marc", is_professional=True, professions=("physician",))
STRANGER = Someone("stranger")
TEAM = Someone("team", is_team=True)
AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _link(fiche_id: str, professional_id: str, profession: str) -> OfferLink:
    return OfferLink(
        professional_id=professional_id,
        profession=profession,
        provider_fiche_id=fiche_id,
        in_edit=True,
        in_published=True,
        changed_by="marc",
        updated_at=AT,
    )


def _practice(*offers: OfferLink) -> PracticeFiche:
    fiche = PracticeFiche.create("practice-1", PracticeData(**WARMSTE_TEAM), MARC, AT)
    fiche.publish(MARC, AT)
    fiche.offers.extend(offers)
    fiche.take_events()
    return fiche


def test_creating_linking_and_publishing_records_the_events_in_order() -> None:
    fiche = PracticeFiche.create("practice-1", PracticeData(**WARMSTE_TEAM), MARC, AT)
    marc = LinkedProvider(fiche_id="fiche-marc", professional_id="marc-pro")
    fiche.link_offers(
        marc, ["physician"], user_id="marc", action="link_own_offer", now=AT, publish=False
    )
    changed = fiche.publish(MARC, AT)

    assert [type(e) for e in fiche.take_events()] == [
        PracticeManagersChanged,
        PracticeFichePublished,
        OfferLinked,
    ]
    assert "offers" in changed
    assert [entry.action for entry in fiche.new_history] == ["create", "link_own_offer", "publish"]
    assert fiche.public_offer_blocks() == {"physician": ["fiche-marc"]}


def test_only_managers_and_the_team_change_a_practice() -> None:
    fiche = _practice()
    with pytest.raises(Forbidden):
        fiche.save(STRANGER, PracticeData(names=[{"name": "Other"}]), AT)
    with pytest.raises(Forbidden):
        fiche.publish(STRANGER, AT)
    assert "names" in fiche.save(TEAM, PracticeData(names=[{"name": "Other"}]), AT)
    assert fiche.name == "Other"


def test_a_professional_ticks_only_offers_of_their_own_professions() -> None:
    fiche = _practice()
    with pytest.raises(Invalid):
        fiche.check_own_offers(MARC, ["nurse"])
    with pytest.raises(Forbidden):
        fiche.check_own_offers(Someone("secretary"), ["physician"])
    fiche.check_own_offers(MARC, ["physician"])


def test_one_preferred_entry_per_list() -> None:
    two = {"names": [{"name": "A", "preferred": True}, {"name": "B", "preferred": True}]}
    with pytest.raises(ValidationError):
        _practice().apply_changes(two, "marc", "proposal:1", AT)


def test_the_last_known_manager_stays_unless_the_team_removes_them() -> None:
    fiche = _practice()
    with pytest.raises(Conflict):
        fiche.withdraw(MARC, "marc", known_user_ids={"marc"}, now=AT)
    fiche.withdraw(TEAM, "marc", known_user_ids={"marc"}, now=AT)
    assert fiche.manager_ids == []


def test_unlink_publish_and_restore() -> None:
    fiche = _practice(_link("fiche-marc", "marc-pro", "physician"))
    with pytest.raises(NotFound):
        fiche.unlink("nobody", "physician", "marc", AT, publish=False)
    fiche.unlink("marc-pro", "physician", "marc", AT, publish=True)
    assert [type(e) for e in fiche.take_events()] == [OfferUnlinked, PracticeManagersChanged]
    assert fiche.offers == []

    with pytest.raises(Forbidden):
        fiche.restore(MARC, 1, {"names": [{"name": "Old", "preferred": True}]}, AT)
    with pytest.raises(NotFound):
        fiche.restore(TEAM, 99, None, AT)
    assert fiche.restore(TEAM, 1, {"names": [{"name": "Old", "preferred": True}]}, AT)
    assert fiche.name == "Old" and fiche.published_data != fiche.draft
