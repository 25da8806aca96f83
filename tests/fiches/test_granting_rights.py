"""Management rights go to known users only, named by e-mail address or by name.

Known users are the activated users identity announces on `identity.profiles.v1`. A grant
to anybody else changes nothing, and a practice always keeps a real manager.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from contracts.events.identity import UserProfilePublished
from fiches.adapters.known_users import remember
from fiches.adapters.tables import known_users, practice_managers
from servicekit.email_lookup import DEVELOPMENT_EMAIL_LOOKUP_KEY, email_lookup
from tests.fiches.conftest import FichesUnderTest
from tests.fiches.test_guide_scenarios import SOLO, WARMSTE_TEAM, create
from tests.support.problems import error_locs, problem_of


async def _managers(fiches: FichesUnderTest, practice: str) -> list[str]:
    async with fiches.component.runtime.sessions() as session:
        rows = await session.execute(
            sa.select(practice_managers.c.user_id).where(
                practice_managers.c.practice_id == practice
            )
        )
        return sorted(row.user_id for row in rows)


async def test_rights_go_only_to_a_known_user_by_address_or_name(fiches: FichesUnderTest) -> None:
    marc = await fiches.professional("marc", ("physician",), first="Marc", last="Creemers")
    secretary = fiches.citizen("secretaris")
    practice = await create(fiches, marc, WARMSTE_TEAM, ["physician"])
    url = f"/api/fiches/practices/{practice}/managers"
    await fiches.announce(secretary, display_name="Sofie Van Damme")
    events_before = await fiches.event_types()

    # Nobody on the platform uses this address: nothing changes.
    unknown = await fiches.request("POST", url, marc, json={"email": "ghost@example.be"})
    assert unknown.status_code == 404, unknown.text
    assert "no activated user" in problem_of(unknown)["detail"]
    # An internal id is not a way to name someone.
    by_id = await fiches.request("POST", url, marc, json={"user_id": secretary.user_id})
    assert by_id.status_code == 422
    assert ["body", "user_id"] in error_locs(by_id)
    for body in ({}, {"email": secretary.email, "name": "Sofie Van Damme"}):
        refused = await fiches.request("POST", url, marc, json=body)
        assert refused.status_code == 422, refused.text
        assert "exactly one of `email` or `name`" in refused.text
    not_an_address = await fiches.request("POST", url, marc, json={"email": "sofie at home"})
    assert not_an_address.status_code == 422
    assert error_locs(not_an_address) == [["body", "email"]]
    nobody = await fiches.request("POST", url, marc, json={"name": "Nobody Known"})
    assert nobody.status_code == 404
    assert await _managers(fiches, practice) == [marc.user_id]
    assert await fiches.event_types() == events_before

    # By name: case, accents and spacing do not matter.
    granted = await fiches.request("POST", url, marc, json={"name": "  sofie van  DÄMME "})
    assert granted.status_code == 200, granted.text
    assert granted.json()["managers"] == [
        {"user_id": marc.user_id, "name": "Marc Creemers"},
        {"user_id": secretary.user_id, "name": "Sofie Van Damme"},
    ]
    again = await fiches.request("POST", url, marc, json={"email": secretary.email.upper()})
    assert again.status_code == 409  # by address (any case): already a manager
    assert "example.be" not in granted.text


async def test_a_name_several_users_share_is_refused_with_how_to_tell_them_apart(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",))
    jan_nurse = await fiches.professional("jan", ("nurse",), first="Jan", last="Peeters")
    jan_citizen = fiches.citizen("jan2")
    practice = await create(fiches, marc, SOLO, ["physician"])
    await fiches.announce(jan_citizen, display_name="Jan Peeters")
    url = f"/api/fiches/practices/{practice}/managers"

    ambiguous = await fiches.request("POST", url, marc, json={"name": "Jan Peeters"})
    assert ambiguous.status_code == 409, ambiguous.text
    detail = problem_of(ambiguous)
    assert detail["code"] == "ambiguous_name"
    assert "2 users of the platform are called 'Jan Peeters'" in detail["detail"]
    assert sorted(detail["candidates"], key=lambda c: c["kind"]) == [
        {"kind": "citizen"},
        {"kind": "professional", "professions": ["nurse"]},
    ]
    assert "e-mail address" in detail["what_to_do"]
    # Neither their addresses nor their ids are given away.
    for leaked in (jan_nurse.email, jan_citizen.email, jan_nurse.user_id, jan_citizen.user_id):
        assert leaked not in ambiguous.text
    assert await _managers(fiches, practice) == [marc.user_id]

    by_address = await fiches.request("POST", url, marc, json={"email": jan_nurse.email})
    assert by_address.status_code == 200
    assert jan_nurse.user_id in by_address.json()["manager_user_ids"]


async def test_the_last_real_manager_stays_even_beside_a_manager_nobody_knows(
    fiches: FichesUnderTest,
) -> None:
    """A manager row for an id fiches does not know (granted before grants were checked)
    does not count: the real manager cannot leave the practice to it."""
    marc = await fiches.professional("marc", ("physician",))
    team = fiches.team()
    practice = await create(fiches, marc, SOLO, ["physician"])
    async with fiches.component.runtime.sessions() as session, session.begin():
        await session.execute(
            sa.insert(practice_managers).values(
                practice_id=practice,
                user_id="no-such-user",
                granted_by=marc.user_id,
                granted_at=datetime.now(UTC),
            )
        )
    url = f"/api/fiches/practices/{practice}/managers"
    listed = await fiches.request("GET", url, marc)
    assert {"user_id": "no-such-user", "name": None} in listed.json()["managers"]

    leaving = await fiches.request("DELETE", f"{url}/{marc.user_id}", marc)
    assert leaving.status_code == 409, leaving.text
    assert "last manager" in problem_of(leaving)["detail"]
    # Removing the unknown one is fine; the team may still remove anybody.
    cleaned = await fiches.request("DELETE", f"{url}/no-such-user", marc)
    assert cleaned.json()["manager_user_ids"] == [marc.user_id]
    by_team = await fiches.request("DELETE", f"{url}/{marc.user_id}", team)
    assert by_team.status_code == 200


async def test_the_directory_keeps_the_newest_announcement_and_no_address(
    fiches: FichesUnderTest,
) -> None:
    now = datetime.now(UTC)
    lookup = email_lookup("Lotte@Example.be", DEVELOPMENT_EMAIL_LOOKUP_KEY)

    def profile(name: str, at: datetime) -> UserProfilePublished:
        return UserProfilePublished(
            user_id="user-lotte", display_name=name, email_lookup=lookup, occurred_at=at
        )

    async with fiches.component.runtime.sessions() as session, session.begin():
        await remember(session, profile("Lotte Janssens", now))
        await remember(session, profile("Lotte Old", now - timedelta(days=1)))
        await remember(session, profile("Lotte Peeters", now + timedelta(seconds=1)))
    async with fiches.component.runtime.sessions() as session:
        rows = (await session.execute(sa.select(known_users))).all()
    assert [(row.user_id, row.display_name) for row in rows] == [("user-lotte", "Lotte Peeters")]
    assert "example.be" not in repr(rows).lower()
    assert email_lookup(" lotte@example.be", DEVELOPMENT_EMAIL_LOOKUP_KEY) == lookup


def test_fiches_consumes_identitys_profiles(fiches: FichesUnderTest) -> None:
    topics = {t for s in fiches.component.runtime.subscriptions for t in s.topics}
    assert "identity.profiles.v1" in topics
