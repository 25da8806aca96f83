"""Management rights, requests and the team's work queue, removal, and accepted invitations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from contracts.events.fiches import OFFERS_TOPIC, PRACTICES_TOPIC, PROVIDERS_TOPIC, REQUESTS_TOPIC
from contracts.events.invitations import InvitationAccepted
from fiches.handlers.invitation_events import InvitationEventHandlers
from tests.fiches.conftest import FichesUnderTest
from tests.fiches.test_guide_scenarios import SOLO, WARMSTE_TEAM, create, public_blocks
from tests.support.problems import problem_of


async def test_managers_grant_and_withdraw_but_never_the_last_one(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",))
    secretary = fiches.citizen("secretaris")
    team = fiches.team()
    practice = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    url = f"/api/fiches/practices/{practice}/managers"

    granted = await fiches.request("POST", url, marc, json={"email": secretary.email})
    assert granted.json()["manager_user_ids"] == [marc.user_id, secretary.user_id]
    assert [m["name"] for m in granted.json()["managers"]] == ["Marc Marc", "Secretaris"]
    # The secretary now manages it: she edits directly.
    saved = await fiches.request(
        "PUT",
        f"/api/fiches/practices/{practice}/edit",
        secretary,
        json={**WARMSTE_TEAM, "wijken": ["Muide"]},
    )
    assert saved.status_code == 200
    withdrawn = await fiches.request("DELETE", f"{url}/{marc.user_id}", secretary)
    assert withdrawn.json()["manager_user_ids"] == [secretary.user_id]
    last = await fiches.request("DELETE", f"{url}/{secretary.user_id}", secretary)
    assert last.status_code == 409
    assert "last manager" in problem_of(last)["detail"]
    by_team = await fiches.request("DELETE", f"{url}/{secretary.user_id}", team)
    assert by_team.status_code == 200
    assert by_team.json()["manager_user_ids"] == []
    changes = [p for t, p in await fiches.events() if t == "PracticeManagersChanged"]
    assert [list(p["manager_user_ids"]) for p in changes] == [
        [marc.user_id],
        [marc.user_id, secretary.user_id],
        [secretary.user_id],
        [],
    ]
    assert all(p["linked_professional_ids"] == [marc.professional_id] for p in changes)


async def test_proposals_rights_and_the_work_queue(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",))
    neighbour = fiches.citizen("buur")
    secretary = fiches.citizen("secretaris")
    team = fiches.team()
    practice = await create(fiches, marc, WARMSTE_TEAM, ["physician"])

    refused = await fiches.request(
        "PUT", f"/api/fiches/practices/{practice}/edit", neighbour, json=WARMSTE_TEAM
    )
    assert refused.status_code == 403
    assert "/proposals" in problem_of(refused)["detail"]
    assert "/rights-requests" in problem_of(refused)["detail"]

    proposal = await fiches.request(
        "POST",
        f"/api/fiches/practices/{practice}/proposals",
        neighbour,
        json={"changes": {"wijken": ["Sluizeken", "Muide", "Dampoort"]}},
    )
    rights = await fiches.request(
        "POST", f"/api/fiches/practices/{practice}/rights-requests", secretary, json={}
    )
    removal = await fiches.request(
        "POST",
        "/api/fiches/removal-requests",
        neighbour,
        json={"fiche_type": "provider", "fiche_id": marc.fiche_id, "reason": "verhuisd"},
    )
    ids = [r.json()["request_id"] for r in (proposal, rights, removal)]

    queue = await fiches.request("GET", "/api/fiches/team/requests", team)
    assert [r["request_id"] for r in queue.json()["items"]] == ids  # oldest first
    assert [r["kind"] for r in queue.json()["items"]] == ["proposal", "rights", "removal"]
    by_kind = await fiches.request(
        "GET", "/api/fiches/team/requests", team, params={"kind": "rights"}
    )
    assert [r["request_id"] for r in by_kind.json()["items"]] == [ids[1]]
    by_fiche = await fiches.request(
        "GET", "/api/fiches/team/requests", team, params={"fiche_id": marc.fiche_id}
    )
    assert [r["request_id"] for r in by_fiche.json()["items"]] == [ids[2]]

    # Managers decide proposals, not rights requests.
    no = await fiches.request(
        "POST", f"/api/fiches/requests/{ids[1]}/decision", marc, json={"decision": "approved"}
    )
    assert no.status_code == 403
    yes = await fiches.request(
        "POST", f"/api/fiches/requests/{ids[0]}/decision", marc, json={"decision": "approved"}
    )
    assert yes.status_code == 200
    again = await fiches.request(
        "POST", f"/api/fiches/requests/{ids[0]}/decision", marc, json={"decision": "declined"}
    )
    assert again.status_code == 409
    edit = (await fiches.request("GET", f"/api/fiches/practices/{practice}/edit", marc)).json()
    assert edit["draft"]["wijken"] == ["Sluizeken", "Muide", "Dampoort"]
    assert edit["published_version"]["wijken"] == ["Sluizeken", "Muide"]  # not published yet
    history = (
        await fiches.request("GET", f"/api/fiches/practices/{practice}/history", marc)
    ).json()
    assert (history[-1]["action"], history[-1]["changed_fields"]) == (
        f"proposal:{ids[0]}",
        ["wijken"],
    )

    rights_ok = await fiches.request(
        "POST", f"/api/fiches/requests/{ids[1]}/decision", team, json={"decision": "approved"}
    )
    assert rights_ok.status_code == 200
    managers = await fiches.request("GET", f"/api/fiches/practices/{practice}/managers", secretary)
    assert secretary.user_id in managers.json()["manager_user_ids"]

    # The team approves removing Marc's provider fiche: gone from the public, and from
    # the practice's offer block; the practice stays published.
    removed = await fiches.request(
        "POST",
        f"/api/fiches/requests/{ids[2]}/decision",
        team,
        json={"decision": "approved", "comment": "bevestigd"},
    )
    assert removed.status_code == 200
    assert (
        await fiches.request("GET", f"/api/fiches/providers/{marc.fiche_id}")
    ).status_code == 404
    assert await public_blocks(fiches, practice) == {}
    depublished = [p for t, p in await fiches.events(PROVIDERS_TOPIC) if t.endswith("Depublished")]
    assert [p["reason"] for p in depublished] == ["removal_request"]
    # Only the team republishes a fiche it removed.
    again_published = await fiches.request(
        "POST", f"/api/fiches/providers/{marc.fiche_id}/publish", marc
    )
    assert again_published.status_code == 409

    decided = [p for t, p in await fiches.events(REQUESTS_TOPIC) if t == "RequestDecided"]
    assert [(p["request_id"], p["decision"]) for p in decided] == [
        (ids[0], "approved"),
        (ids[1], "approved"),
        (ids[2], "approved"),
    ]
    assert decided[2]["requester_user_id"] == neighbour.user_id
    assert decided[2]["comment"] == "bevestigd"
    queue = await fiches.request("GET", "/api/fiches/team/requests", team)
    assert queue.json()["items"] == []
    mine = await fiches.request("GET", "/api/fiches/me/requests", neighbour)
    assert [r["status"] for r in mine.json()] == ["approved", "approved"]


async def test_the_team_removes_a_practice_fiche_on_request(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",))
    team = fiches.team()
    practice = await create(fiches, marc, SOLO, ["physician"])
    asked = await fiches.request(
        "POST",
        "/api/fiches/removal-requests",
        marc,
        json={"fiche_type": "practice", "fiche_id": practice, "reason": "praktijk gesloten"},
    )
    await fiches.request(
        "POST",
        f"/api/fiches/requests/{asked.json()['request_id']}/decision",
        team,
        json={"decision": "approved"},
    )
    assert (await fiches.request("GET", f"/api/fiches/practices/{practice}")).status_code == 404
    assert [t for t, _ in await fiches.events(PRACTICES_TOPIC)] == [
        "PracticeFichePublished",
        "PracticeFicheDepublished",
    ]
    unlinked = [p for t, p in await fiches.events(OFFERS_TOPIC) if t == "OfferUnlinked"]
    assert [p["reason"] for p in unlinked] == ["practice_removed"]


async def test_an_accepted_invitation_links_and_publishes_only_the_offer_block(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",))
    nele = await fiches.professional("nele", ("nurse",))
    practice = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    # Marc has an unpublished edit pending when Nele accepts his invitation.
    await fiches.request(
        "PUT",
        f"/api/fiches/practices/{practice}/edit",
        marc,
        json={**WARMSTE_TEAM, "names": [{"name": "Nog Geheim"}]},
    )
    event = InvitationAccepted(
        invitation_id=str(uuid.uuid4()),
        practice_id=practice,
        professional_id=str(nele.professional_id),
        professions=("nurse", "physician"),  # physician is not hers: skipped
        occurred_at=datetime.now(UTC),
    )
    handlers = InvitationEventHandlers(fiches.component.runtime.outbox)
    async with fiches.component.runtime.sessions() as session, session.begin():
        await handlers.invitation_accepted(session, event)

    assert await public_blocks(fiches, practice) == {
        "physician": {marc.professional_id},
        "nurse": {nele.professional_id},
    }
    public = (await fiches.request("GET", f"/api/fiches/practices/{practice}")).json()
    assert public["name"] == "Het Warmste Team"  # the pending edit stays unpublished
    linked = [p for t, p in await fiches.events(OFFERS_TOPIC) if t == "OfferLinked"]
    assert [(p["professional_id"], p["profession"]) for p in linked][-1] == (
        nele.professional_id,
        "nurse",
    )
    changed = [p for t, p in await fiches.events() if t == "PracticeManagersChanged"][-1]
    assert set(changed["linked_professional_ids"]) == {marc.professional_id, nele.professional_id}
    status = (await fiches.request("GET", "/api/fiches/me/map-status", nele)).json()
    assert [(p["name"], p["situation"]) for p in status["practices"]] == [
        ("Het Warmste Team", "ready")
    ]
