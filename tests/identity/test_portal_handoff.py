"""The portal's login: identity hands the session over server-side, never to the browser,
and an active user changes their address with a fresh activation of the new one."""

from __future__ import annotations

from pathlib import Path

from identity.config import PORTAL_LOGIN_PATH
from identity.devidp.people import demo_people
from servicekit.settings import KafkaSettings
from tests.identity.flows import login, query_of, running_identity


async def test_a_portal_login_hands_a_one_time_code_to_the_portal_not_a_cookie(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    citizen = next(person for person in demo_people() if person.key == "citizen")
    async with running_identity(kafka, tmp_path) as identity, identity.browser() as browser:
        back = await login(browser, citizen.key, login_as="citizen", return_to=PORTAL_LOGIN_PATH)
        assert back.status_code == 303
        location = back.headers["location"]
        assert location.startswith(PORTAL_LOGIN_PATH + "?code=")
        assert "skaart_session" not in browser.cookies, "the browser never holds the session"

        code = query_of(location)["code"]
        portal = identity.browser()  # the portal's server-side client: no browser cookies
        taken = await portal.post("/api/identity/session/handoff", json={"code": code})
        assert taken.status_code == 200, taken.text
        session = taken.json()["session"]
        me = await portal.get("/api/identity/me", headers={"Cookie": f"skaart_session={session}"})
        assert me.status_code == 200 and me.json()["status"] == "needs_email"

        again = await portal.post("/api/identity/session/handoff", json={"code": code})
        assert again.status_code == 400, "a hand-over code works once"
        assert again.json()["code"] == "handoff_invalid"


async def test_an_active_user_changes_address_and_stays_active_until_the_new_one_is_activated(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    citizen = next(person for person in demo_people() if person.key == "citizen")
    async with running_identity(kafka, tmp_path) as identity, identity.browser() as browser:
        await login(browser, citizen.key, login_as="citizen")
        await browser.put("/api/identity/me/email", json={"email": "old@example.be"})
        (first,) = await identity.activation_links()
        activated = await browser.post(
            "/api/identity/activate", data={"token": query_of(first)["token"]}
        )
        assert activated.status_code == 200

        same = await browser.put("/api/identity/me/email", json={"email": "old@example.be"})
        assert same.status_code == 409
        changed = await browser.put("/api/identity/me/email", json={"email": "new@example.be"})
        assert changed.status_code == 202, changed.text
        me = (await browser.get("/api/identity/me")).json()
        assert me["status"] == "active" and me["email"] == "old@example.be"
        assert (await browser.post("/api/identity/token")).status_code == 200

        second = next(link for link in await identity.activation_links() if link != first)
        assert (
            await browser.post("/api/identity/activate", data={"token": query_of(second)["token"]})
        ).status_code == 200
        me = (await browser.get("/api/identity/me")).json()
        assert me["status"] == "active" and me["email"] == "new@example.be"


async def test_a_refused_portal_login_goes_back_to_the_portal_with_the_reason_not_json(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    citizen = next(person for person in demo_people() if person.key == "citizen")
    async with running_identity(kafka, tmp_path) as identity, identity.browser() as browser:
        # Not in the register, logging in as a professional.
        back = await login(browser, citizen.key, return_to=PORTAL_LOGIN_PATH)
        assert back.status_code == 303
        assert back.headers["location"] == (
            PORTAL_LOGIN_PATH + "?code=not_eligible&check=unknown_to_registry"
        )
        assert "skaart_session" not in browser.cookies
        # Without the portal, the same refusal stays the API's answer.
        direct = await login(browser, citizen.key)
        assert direct.status_code == 403
        assert direct.json()["check"] == "unknown_to_registry"
