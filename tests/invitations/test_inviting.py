"""A manager invites colleagues: who may, what is sent, and the limits against abuse."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import redis.asyncio as redis
import sqlalchemy as sa

from contracts.events.identity import Role
from invitations.adapters.tables import invitations
from tests.invitations.harness import REDIS_URL, invitations_under_test
from tests.support.problems import code_of, error_locs, problem_of

PRACTICE = "practice-warmste-team"
MANAGER = "user-marc"


async def _invitation_count(service) -> int:  # type: ignore[no-untyped-def]
    async with service.sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(invitations)) or 0)


async def test_a_manager_invites_and_only_the_restricted_mail_carries_link_and_address(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        await svc.practice(PRACTICE, [MANAGER])
        response = await svc.invite(
            PRACTICE, MANAGER, ["nele@example.be", "Jan.Peeters@Example.be"], profession="nurse"
        )
        assert response.status_code == 201, response.text
        results = response.json()["results"]
        assert [r["index"] for r in results] == [0, 1]
        assert {r["outcome"] for r in results} == {"invited"}
        assert "example.be" not in response.text  # the addresses are not echoed

        issued = await svc.outbox_events("InvitationIssued")
        mails = await svc.mail_requests()
        assert {e["topic"] for e in issued} == {"invitations.invitations.v1"}
        assert {e["topic"] for e in mails} == {"invitations.deliveries.v1"}
        assert {e["invitation_id"] for e in issued} == {r["invitation_id"] for r in results}
        assert sorted(m["email"] for m in mails) == ["Jan.Peeters@example.be", "nele@example.be"]
        for mail in mails:
            # Sealed on the way: the outbox row itself holds neither address nor link.
            assert "example.be" not in mail["sealed_email"]
            assert "token" not in mail["sealed_accept_url"]
            assert mail["accept_url"].startswith("https://sociale-kaart.example/uitnodiging?token=")
            assert mail["practice_name"] == "Het Warmste Team"
            assert mail["profession"] == "nurse"
            assert mail["inviter_name"] == "Test"
        for event in issued:
            assert event["profession"] == "nurse"
            assert "email" not in event and "accept_url" not in event


async def test_links_use_the_configured_base_url_not_the_request_host(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        await svc.practice(PRACTICE, [MANAGER])
        response = await svc.http.post(
            f"/api/invitations/practices/{PRACTICE}/invitations",
            json={"emails": ["nele@example.be"]},
            headers={**svc.manager(MANAGER), "Host": "evil.example", "X-Forwarded-Host": "evil"},
        )
        assert response.status_code == 201
        (mail,) = await svc.mail_requests()
        assert mail["accept_url"].startswith("https://sociale-kaart.example/")
        assert "evil" not in mail["accept_url"]


async def test_a_non_manager_cannot_invite(database_url_factory, tmp_path: Path) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        await svc.practice(PRACTICE, [MANAGER])
        refused = await svc.invite(PRACTICE, "user-someone-else", ["nele@example.be"])
        assert refused.status_code == 403
        assert code_of(refused) == "not_a_manager"
        assert "Het Warmste Team" in problem_of(refused)["detail"]

        anonymous = await svc.http.post(
            f"/api/invitations/practices/{PRACTICE}/invitations",
            json={"emails": ["nele@example.be"]},
        )
        assert anonymous.status_code == 401

        unknown = await svc.invite("practice-nobody-knows", MANAGER, ["nele@example.be"])
        assert unknown.status_code == 404
        assert code_of(unknown) == "practice_unknown"
        assert await _invitation_count(svc) == 0
        assert await svc.outbox_events() == []


async def test_managers_view_follows_fiches_and_ignores_an_older_announcement(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        await svc.practice(PRACTICE, [MANAGER])
        await svc.practice(PRACTICE, ["user-nele"], occurred_at=svc.clock() + timedelta(seconds=5))
        await svc.practice(PRACTICE, [MANAGER], occurred_at=svc.clock() - timedelta(seconds=5))
        assert (await svc.invite(PRACTICE, MANAGER, ["a@example.be"])).status_code == 403
        assert (await svc.invite(PRACTICE, "user-nele", ["a@example.be"])).status_code == 201


async def test_bad_addresses_are_refused_per_field_without_echo_and_store_nothing(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        await svc.practice(PRACTICE, [MANAGER])
        invalid = await svc.invite(PRACTICE, MANAGER, ["nele@example.be", "jan.peeters@@x"])
        assert invalid.status_code == 422
        assert error_locs(invalid) == [["body", "emails", 1]]
        (error,) = problem_of(invalid)["errors"]
        assert error["message"].startswith("Address 2 is not a valid e-mail address")
        assert "jan.peeters" not in invalid.text

        duplicate = await svc.invite(PRACTICE, MANAGER, ["nele@example.be", "NELE@example.be"])
        assert duplicate.status_code == 422
        assert error_locs(duplicate)[0] == ["body", "emails", 1]

        empty = await svc.invite(PRACTICE, MANAGER, [])
        assert empty.status_code == 422

        bad_profession = await svc.invite(PRACTICE, MANAGER, ["a@example.be"], "Nurse; DROP")
        assert bad_profession.status_code == 422
        assert error_locs(bad_profession)[0] == ["body", "profession"]
        assert await _invitation_count(svc) == 0
        assert await svc.outbox_events() == []


async def test_an_address_already_invited_or_linked_is_told_so_instead_of_invited(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        await svc.practice(PRACTICE, [MANAGER])
        first = (await svc.invite(PRACTICE, MANAGER, ["nele@example.be"])).json()["results"][0]

        again = await svc.invite(PRACTICE, MANAGER, ["Nele@Example.be", "jan@example.be"])
        assert again.status_code == 201
        outcomes = [(r["outcome"], r["invitation_id"]) for r in again.json()["results"]]
        assert outcomes[0] == ("already_invited", first["invitation_id"])
        assert outcomes[1][0] == "invited"

        token = await svc.token_of(first["invitation_id"])
        accepted = await svc.http.post(
            "/api/invitations/link/accept",
            json={"token": token, "professions": ["nurse"]},
            headers=svc.professional("prof-nele", ["nurse"]),
        )
        assert accepted.status_code == 200, accepted.text
        # fiches has not announced the link yet: the acceptance itself counts.
        linked = await svc.invite(PRACTICE, MANAGER, ["nele@example.be"])
        assert linked.status_code == 200
        assert linked.json()["results"][0]["outcome"] == "already_linked"

        svc.clock.advance(seconds=1)
        await svc.practice(PRACTICE, [MANAGER], linked=["prof-nele"])
        linked = await svc.invite(PRACTICE, MANAGER, ["nele@example.be"])
        assert linked.json()["results"][0]["outcome"] == "already_linked"

        # She stopped at the practice: fiches no longer lists her, so she can be invited.
        svc.clock.advance(seconds=1)
        await svc.practice(PRACTICE, [MANAGER], linked=[])
        reinvited = await svc.invite(PRACTICE, MANAGER, ["nele@example.be"])
        assert reinvited.json()["results"][0]["outcome"] == "invited"


async def test_open_invitations_per_practice_are_capped(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(
        await database_url_factory("invitations"), tmp_path, max_open_per_practice=3
    ) as svc:
        await svc.practice(PRACTICE, [MANAGER])
        ok = await svc.invite(PRACTICE, MANAGER, ["a@example.be", "b@example.be"])
        assert ok.status_code == 201
        over = await svc.invite(PRACTICE, MANAGER, ["c@example.be", "d@example.be"])
        assert over.status_code == 409
        assert code_of(over) == "too_many_open_invitations"
        assert "has 2 open invitations and may have at most 3" in problem_of(over)["detail"]
        assert await _invitation_count(svc) == 2

        # A revoked invitation no longer counts.
        first = ok.json()["results"][0]["invitation_id"]
        revoked = await svc.http.post(
            f"/api/invitations/{first}/revoke", headers=svc.manager(MANAGER)
        )
        assert revoked.status_code == 200
        assert (
            await svc.invite(PRACTICE, MANAGER, ["c@example.be", "d@example.be"])
        ).status_code == 201


async def test_invitations_are_rate_limited_per_manager_and_per_practice(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(
        await database_url_factory("invitations"),
        tmp_path,
        manager_limit=3,
        manager_window_s=600,
        practice_limit=4,
        practice_window_s=3600,
    ) as svc:
        await svc.practice(PRACTICE, [MANAGER, "user-nele"])
        assert (await svc.invite(PRACTICE, MANAGER, ["a@x.be", "b@x.be"])).status_code == 201
        limited = await svc.invite(PRACTICE, MANAGER, ["c@x.be", "d@x.be"])
        assert limited.status_code == 429
        assert 590 <= int(limited.headers["Retry-After"]) <= 600
        assert code_of(limited) == "rate_limited"
        assert "you may send 3" in problem_of(limited)["detail"]
        # The refused request used none of the allowance: one more still fits.
        assert (await svc.invite(PRACTICE, MANAGER, ["c@x.be"])).status_code == 201

        # Another manager of the same practice hits the practice's limit.
        assert (await svc.invite(PRACTICE, "user-nele", ["e@x.be"])).status_code == 201
        practice_limited = await svc.invite(PRACTICE, "user-nele", ["f@x.be"])
        assert practice_limited.status_code == 429
        assert "this practice may send 4" in problem_of(practice_limited)["detail"]
        assert 3500 <= int(practice_limited.headers["Retry-After"]) <= 3600
        assert await _invitation_count(svc) == 4

        # The counters live in Redis under this instance's prefix only.
        client = redis.Redis.from_url(REDIS_URL)
        try:
            prefix = svc.settings.redis_key_prefix
            keys = sorted([key.decode() async for key in client.scan_iter(match=prefix + "*")])
            assert keys == [
                f"{prefix}rate:manager:user-marc",
                f"{prefix}rate:manager:user-nele",
                f"{prefix}rate:practice:{PRACTICE}",
            ]
            assert int(await client.get(f"{prefix}rate:practice:{PRACTICE}")) == 4
            assert 0 < await client.ttl(f"{prefix}rate:manager:user-marc") <= 600
        finally:
            await client.aclose()


async def test_without_a_chosen_language_the_mail_leaves_the_choice_to_the_invitees_own(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        await svc.practice(PRACTICE, [MANAGER])
        french_manager = svc.signer.headers(MANAGER, roles=(Role.CITIZEN,), lang="fr")
        path = f"/api/invitations/practices/{PRACTICE}/invitations"
        unchosen = await svc.http.post(
            path, json={"emails": ["nele@example.be"]}, headers=french_manager
        )
        chosen = await svc.http.post(
            path, json={"emails": ["jan@example.be"], "language": "en"}, headers=french_manager
        )
        assert unchosen.status_code == chosen.status_code == 201
        resent = await svc.http.post(
            f"/api/invitations/{chosen.json()['results'][0]['invitation_id']}/resend",
            headers=french_manager,
        )
        assert resent.status_code == 200, resent.text
        mails = [
            (m["email"], m["language"], m["language_chosen"]) for m in await svc.mail_requests()
        ]
        # Not chosen: the manager's language, and notifications may prefer the invitee's own.
        assert mails == [
            ("nele@example.be", "fr", False),
            ("jan@example.be", "en", True),
            ("jan@example.be", "en", True),
        ]


async def test_an_address_that_would_add_a_header_line_is_refused_and_nobody_is_invited(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        await svc.practice(PRACTICE, [MANAGER])
        # A line break is refused as an address; a NUL already by the input guard, which
        # refuses it in any body before a service reads it (servicekit.input_guard).
        for hostile, code in (
            ("nele@example.be\r\nBcc: everyone@example.org", "invalid_address"),
            ("nele\x00@example.be", "invalid_character"),
        ):
            response = await svc.invite(PRACTICE, MANAGER, ["jan@example.be", hostile])
            assert response.status_code == 422, response.text
            assert error_locs(response) == [["body", "emails", 1]]
            (error,) = problem_of(response)["errors"]
            assert error["code"] == code
            assert "everyone@example.org" not in response.text
        assert await _invitation_count(svc) == 0
        assert await svc.mail_requests() == []


async def test_a_validly_signed_ten_year_token_is_refused(
    database_url_factory, tmp_path: Path
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        await svc.practice(PRACTICE, [MANAGER])
        url = f"/api/invitations/practices/{PRACTICE}/invitations"
        normal = svc.signer.headers(MANAGER)
        forged = svc.signer.headers(MANAGER, lifetime=timedelta(days=3650))

        assert (await svc.http.get(url, headers=normal)).status_code == 200
        refused = await svc.http.get(url, headers=forged)
        assert refused.status_code == 401, refused.text
        assert "lives longer than" in refused.text
