"""The invitee follows the link: one use, the right person, and every other ending."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from contracts.events.identity import Role
from invitations.adapters.tables import invitations
from invitations.handlers.expiry import expire_lapsed_invitations
from tests.invitations.harness import InvitationsUnderTest, invitations_under_test
from tests.support.problems import code_of, error_locs, problem_of

PRACTICE = "practice-klim"
MANAGER = "user-marc"
ACCEPT = "/api/invitations/link/accept"


async def _invited(svc: InvitationsUnderTest, profession: str | None = None) -> tuple[str, str]:
    await svc.practice(PRACTICE, [MANAGER], name="KLIM")
    response = await svc.invite(PRACTICE, MANAGER, ["nele@example.be"], profession=profession)
    assert response.status_code == 201, response.text
    invitation_id = response.json()["results"][0]["invitation_id"]
    return invitation_id, await svc.token_of(invitation_id)


async def _accept(svc: InvitationsUnderTest, token: str, professions: list[str], **who: Any) -> Any:
    headers = svc.professional(who.get("professional_id", "prof-nele"), who.get("holds", ["nurse"]))
    return await svc.http.post(
        ACCEPT, json={"token": token, "professions": professions}, headers=headers
    )


async def _status(svc: InvitationsUnderTest, invitation_id: str) -> str:
    async with svc.sessions() as session:
        return str(
            await session.scalar(
                sa.select(invitations.c.status).where(invitations.c.invitation_id == invitation_id)
            )
        )


async def test_the_link_shows_practice_and_profession_and_nothing_about_anyone(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        _, token = await _invited(svc, profession="nurse")
        shown = await svc.http.get("/api/invitations/link", params={"token": token})
        assert shown.status_code == 200
        body = shown.json()
        assert set(body) == {"practice_id", "practice_name", "profession", "expires_at"}
        assert (body["practice_name"], body["profession"]) == ("KLIM", "nurse")
        assert shown.headers["Cache-Control"] == "no-store"
        assert shown.headers["Referrer-Policy"] == "no-referrer"


async def test_accepting_links_the_offer_and_tells_the_inviter_and_a_second_use_is_refused(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        invitation_id, token = await _invited(svc)
        accepted = await _accept(svc, token, ["nurse"])
        assert accepted.status_code == 200, accepted.text
        assert accepted.json() == {
            "invitation_id": invitation_id,
            "practice_id": PRACTICE,
            "practice_name": "KLIM",
            "professions": ["nurse"],
        }
        (event,) = await svc.outbox_events("InvitationAccepted")
        assert event["topic"] == "invitations.invitations.v1"
        assert (event["professional_id"], event["professions"]) == ("prof-nele", ["nurse"])
        (told,) = await svc.outbox_events("InviterNotificationRequested")
        assert told["topic"] == "invitations.deliveries.v1"
        assert (told["inviter_user_id"], told["outcome"]) == (MANAGER, "accepted")

        again = await _accept(svc, token, ["nurse"])
        assert again.status_code == 410
        assert again.headers["Cache-Control"] == "no-store"
        assert code_of(again) == "already_used"
        shown = await svc.http.get("/api/invitations/link", params={"token": token})
        assert shown.status_code == 410
        assert len(await svc.outbox_events("InvitationAccepted")) == 1


async def test_a_tampered_token_is_refused_and_the_invitation_stays_open(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        invitation_id, token = await _invited(svc)
        for tampered in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:-2], token + "x"):
            refused = await _accept(svc, tampered, ["nurse"])
            assert refused.status_code == 404
            assert code_of(refused) == "link_not_valid"
            assert tampered not in refused.text
        assert (
            await svc.http.get("/api/invitations/link", params={"token": "x"})
        ).status_code == 404
        assert await _status(svc, invitation_id) == "open"
        assert (await _accept(svc, token, ["nurse"])).status_code == 200


async def test_an_expired_link_is_refused_and_the_sweep_ends_it_and_tells_the_inviter(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(
        await database_url_factory("invitations"), tmp_path, token_ttl_days=2
    ) as svc:
        invitation_id, token = await _invited(svc)
        svc.clock.advance(days=1, hours=23)
        assert (
            await svc.http.get("/api/invitations/link", params={"token": token})
        ).status_code == 200
        svc.clock.advance(hours=1)
        refused = await _accept(svc, token, ["nurse"])
        assert refused.status_code == 410
        assert code_of(refused) == "expired"

        context = svc.context()
        assert await expire_lapsed_invitations(context) == 1
        assert await expire_lapsed_invitations(context) == 0
        assert await _status(svc, invitation_id) == "expired"
        (expired,) = await svc.outbox_events("InvitationExpired")
        assert expired["invitation_id"] == invitation_id
        (told,) = await svc.outbox_events("InviterNotificationRequested")
        assert told["outcome"] == "expired"
        assert code_of(await _accept(svc, token, ["nurse"])) == "expired"


async def test_revoked_and_replaced_links_are_refused(database_url_factory, tmp_path: Path) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        invitation_id, old_token = await _invited(svc)
        not_manager = await svc.http.post(
            f"/api/invitations/{invitation_id}/resend", headers=svc.manager("user-other")
        )
        assert not_manager.status_code == 403
        resent = await svc.http.post(
            f"/api/invitations/{invitation_id}/resend", headers=svc.manager(MANAGER)
        )
        assert resent.status_code == 200, resent.text
        new_token = await svc.token_of(invitation_id)
        assert new_token != old_token
        mails = await svc.mail_requests()
        assert [m["email"] for m in mails] == ["nele@example.be", "nele@example.be"]
        issued = await svc.outbox_events("InvitationIssued")
        assert [event["invitation_id"] for event in issued] == [invitation_id, invitation_id]
        assert issued[1]["expires_at"] >= issued[0]["expires_at"]
        assert issued[1]["expires_at"] == mails[1]["expires_at"], "agencies see the new expiry"
        assert {event["topic"] for event in issued} == {"invitations.invitations.v1"}
        assert new_token not in str(issued) and "nele" not in str(issued)
        assert (await _accept(svc, old_token, ["nurse"])).status_code == 404
        assert (
            await svc.http.get("/api/invitations/link", params={"token": new_token})
        ).status_code == 200

        revoked = await svc.http.post(
            f"/api/invitations/{invitation_id}/revoke", headers=svc.manager(MANAGER)
        )
        assert revoked.status_code == 200
        (event,) = await svc.outbox_events("InvitationRevoked")
        assert event["invitation_id"] == invitation_id
        refused = await _accept(svc, new_token, ["nurse"])
        assert refused.status_code == 410
        assert code_of(refused) == "revoked"
        twice = await svc.http.post(
            f"/api/invitations/{invitation_id}/revoke", headers=svc.manager(MANAGER)
        )
        assert twice.status_code == 409
        no_resend = await svc.http.post(
            f"/api/invitations/{invitation_id}/resend", headers=svc.manager(MANAGER)
        )
        assert no_resend.status_code == 409

        listed = await svc.http.get(
            f"/api/invitations/practices/{PRACTICE}/invitations", headers=svc.manager(MANAGER)
        )
        assert [item["status"] for item in listed.json()["items"]] == ["revoked"]
        assert "nele" not in listed.text


async def test_the_team_sees_and_withdraws_any_invitation_but_sends_none(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        invitation_id, token = await _invited(svc)
        team = svc.signer.headers("user-team", roles=(Role.TEAM,))

        listed = await svc.http.get(
            f"/api/invitations/practices/{PRACTICE}/invitations", headers=team
        )
        assert listed.status_code == 200, listed.text
        assert [item["invitation_id"] for item in listed.json()["items"]] == [invitation_id]
        resent = await svc.http.post(f"/api/invitations/{invitation_id}/resend", headers=team)
        assert resent.status_code == 403, "the team does not send in a practice's name"
        invited = await svc.http.post(
            f"/api/invitations/practices/{PRACTICE}/invitations",
            json={"emails": ["an@example.be"]},
            headers=team,
        )
        assert invited.status_code == 403, invited.text

        revoked = await svc.http.post(f"/api/invitations/{invitation_id}/revoke", headers=team)

        assert revoked.status_code == 200, revoked.text
        (event,) = await svc.outbox_events("InvitationRevoked")
        assert event["invitation_id"] == invitation_id
        assert code_of(await _accept(svc, token, ["nurse"])) == "revoked"


async def test_declining_ends_the_invitation_and_tells_the_inviter(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        invitation_id, token = await _invited(svc)
        declined = await svc.http.post("/api/invitations/link/decline", json={"token": token})
        assert declined.status_code == 200
        assert declined.json() == {"invitation_id": invitation_id, "status": "declined"}
        (event,) = await svc.outbox_events("InvitationDeclined")
        assert event["topic"] == "invitations.invitations.v1"
        (told,) = await svc.outbox_events("InviterNotificationRequested")
        assert told["outcome"] == "declined"
        assert code_of(await _accept(svc, token, ["nurse"])) == "declined"


async def test_a_citizen_cannot_accept_and_the_invitation_stays_open(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        invitation_id, token = await _invited(svc)
        citizen = await svc.http.post(
            ACCEPT,
            json={"token": token, "professions": ["nurse"]},
            headers=svc.manager("user-citizen"),
        )
        assert citizen.status_code == 403
        assert code_of(citizen) == "not_a_professional"
        assert "Log in as professional" in problem_of(citizen)["detail"]

        anonymous = await svc.http.post(ACCEPT, json={"token": token, "professions": ["nurse"]})
        assert anonymous.status_code == 401
        forged = await svc.http.post(
            ACCEPT,
            json={"token": token, "professions": ["nurse"]},
            headers={"Authorization": "Bearer not-a-jwt"},
        )
        assert forged.status_code == 401
        assert await _status(svc, invitation_id) == "open"
        assert await svc.outbox_events("InvitationAccepted") == []
        assert (await _accept(svc, token, ["nurse"])).status_code == 200


async def test_a_profession_not_held_or_not_invited_is_refused_and_the_invitation_stays_open(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        invitation_id, token = await _invited(svc, profession="nurse")
        not_held = await _accept(svc, token, ["physician"], holds=["nurse"])
        assert not_held.status_code == 403
        assert code_of(not_held) == "profession_not_held"
        assert error_locs(not_held) == [["body", "professions"]]

        not_invited = await _accept(svc, token, ["midwife"], holds=["nurse", "midwife"])
        assert not_invited.status_code == 403
        assert code_of(not_invited) == "profession_not_invited"

        wrong_person = await _accept(
            svc, token, ["nurse"], professional_id="p2", holds=["dietitian"]
        )
        assert wrong_person.status_code == 403
        assert await _status(svc, invitation_id) == "open"
        assert await svc.outbox_events("InvitationAccepted") == []

        right = await _accept(svc, token, ["nurse"], holds=["nurse", "midwife"])
        assert right.status_code == 200
        assert right.json()["professions"] == ["nurse"]


async def test_two_concurrent_accepts_have_exactly_one_winner(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        for _ in range(5):
            invitation_id, token = await _invited(svc)
            first, second = await asyncio.gather(
                _accept(svc, token, ["nurse"], professional_id="prof-a"),
                _accept(svc, token, ["nurse"], professional_id="prof-b"),
            )
            assert sorted([first.status_code, second.status_code]) == [200, 410]
            accepted = [
                e
                for e in await svc.outbox_events("InvitationAccepted")
                if e["invitation_id"] == invitation_id
            ]
            assert len(accepted) == 1
            winner = "prof-a" if first.status_code == 200 else "prof-b"
            assert accepted[0]["professional_id"] == winner
            svc.clock.advance(seconds=1)
            await svc.practice(PRACTICE, [MANAGER], name="KLIM", linked=[])


async def test_the_managers_list_names_who_invited_and_who_accepted(
    database_url_factory, tmp_path: Path
) -> None:
    """Names, never addresses: who sent each invitation and who accepted or revoked it,
    and the inviter's mail request names the colleague who accepted."""
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        await svc.practice(PRACTICE, [MANAGER], name="KLIM")
        inviter = svc.signer.headers(MANAGER, roles=(Role.CITIZEN,), name="Marc Creemers")
        sent = await svc.http.post(
            f"/api/invitations/practices/{PRACTICE}/invitations",
            json={"emails": ["nele@example.be", "jan@example.be"]},
            headers=inviter,
        )
        assert sent.status_code == 201, sent.text
        nele_id, jan_id = (r["invitation_id"] for r in sent.json()["results"])
        nele = svc.signer.headers(
            "user-nele",
            roles=(Role.PROFESSIONAL,),
            professional_id="prof-nele",
            professions=["nurse"],
            name="Nele Van Schelvergem",
        )
        accepted = await svc.http.post(
            ACCEPT,
            json={"token": await svc.token_of(nele_id), "professions": ["nurse"]},
            headers=nele,
        )
        assert accepted.status_code == 200, accepted.text
        revoked = await svc.http.post(f"/api/invitations/{jan_id}/revoke", headers=inviter)
        assert revoked.status_code == 200, revoked.text

        listed = await svc.http.get(
            f"/api/invitations/practices/{PRACTICE}/invitations", headers=inviter
        )
        assert listed.status_code == 200, listed.text
        by_id = {item["invitation_id"]: item for item in listed.json()["items"]}
        assert by_id[nele_id]["invited_by_name"] == "Marc Creemers"
        assert by_id[nele_id]["ended_by_name"] == "Nele Van Schelvergem"
        assert by_id[jan_id]["ended_by_name"] == "Marc Creemers"
        assert "example.be" not in listed.text

        (outcome,) = [
            e
            for e in await svc.outbox_events("InviterNotificationRequested")
            if e["invitation_id"] == nele_id
        ]
        assert outcome["colleague_name"] == "Nele Van Schelvergem"
