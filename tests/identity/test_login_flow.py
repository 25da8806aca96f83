"""The login over HTTP against the development provider: who gets in, who is refused."""

from __future__ import annotations

from pathlib import Path

from contracts.events.registry import StatusChangeReason
from identity.devidp.people import demo_people
from servicekit.settings import KafkaSettings
from tests.identity.flows import login, running_identity
from tests.identity.registry_facts import register, stop
from tests.support.problems import problem_of


async def test_professionals_and_citizens_log_in_and_the_ineligible_are_refused(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    people = {person.key: person for person in demo_people()}
    eligible, visa_ended = people["professional-3"], people["professional-4"]
    banned = next(p for p in people.values() if "practice ban" in p.description)
    citizen = people["citizen"]
    assert "physiotherapist" in eligible.description and "physician" in visa_ended.description
    async with running_identity(kafka, tmp_path) as identity:
        component = identity.component
        eligible_id = await register(component, eligible)
        visa_id = await register(component, visa_ended)
        banned_id = await register(component, banned)
        await stop(component, visa_id, StatusChangeReason.VISA_INACTIVE, "physician")
        await stop(component, banned_id, StatusChangeReason.PRACTICE_BAN, "nurse", "midwife")

        async with identity.browser() as browser:
            answer = await login(browser, eligible.key)
            assert answer.status_code == 303, answer.text
            me = (await browser.get(answer.headers["location"])).json()
            assert me["roles"] == ["professional"]
            assert me["professional_id"] == eligible_id
            assert me["professions"] == ["physiotherapist"]
            assert me["status"] == "needs_email"
            assert me["surname"] == eligible.surname

        expected = {
            visa_ended.key: "no_active_visa",
            banned.key: "practice_ban",
            citizen.key: "unknown_to_registry",
        }
        for key, check in expected.items():
            async with identity.browser() as browser:
                refused = await login(browser, key)
                assert refused.status_code == 403, refused.text
                detail = problem_of(refused, 403)
                assert detail["check"] == check
                assert "citizen" in detail["what_to_do"]
                assert "skaart_session" not in browser.cookies
                assert (await browser.get("/api/identity/me")).status_code == 401

        async with identity.browser() as browser:
            answer = await login(browser, citizen.key, login_as="citizen")
            assert answer.status_code == 303, answer.text
            me = (await browser.get("/api/identity/me")).json()
            assert me["roles"] == ["citizen"]
            assert me["professional_id"] is None
            assert me["given_name"] == citizen.given_name
