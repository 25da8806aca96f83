"""`skaart up`'s demo practices (skaart/demo_practices.py), made through fiches' commands.

The demo register holds professionals only: without practices the public map has nothing
near a place, no FHIR Organization and no HSDS service. These tests run the seeding on
fiches as the monolith runs it (its database, its outbox) and read the result the way
the public does.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from directory.adapters.reference_geocoder import ReferenceGeocoder
from fiches.handlers.practices import PracticeCommands
from fiches.handlers.providers import ProviderCommands
from fiches.handlers.unit_of_work import UnitOfWork
from skaart.demo_practices import (
    PLACES,
    DemoProvider,
    languages_for,
    practice_for,
    seed_demo_practices,
)
from tests.fiches.conftest import FichesUnderTest


def _commands(fiches: FichesUnderTest) -> PracticeCommands:
    runtime = fiches.component.runtime
    return PracticeCommands(UnitOfWork(runtime.sessions, runtime.outbox))


def _provider_commands(fiches: FichesUnderTest) -> ProviderCommands:
    runtime = fiches.component.runtime
    return ProviderCommands(UnitOfWork(runtime.sessions, runtime.outbox), _commands(fiches))


async def _seed(fiches: FichesUnderTest, count: int, excluded: set[tuple[str, str]]) -> int:
    return await seed_demo_practices(
        fiches.component.runtime.sessions,
        _commands(fiches),
        count=count,
        excluded_names=excluded,
        deadline_s=30,
        poll_s=0.05,
        provider_commands=_provider_commands(fiches),
    )


async def _public_practices(fiches: FichesUnderTest) -> list[dict[str, object]]:
    published = [
        payload for kind, payload in await fiches.events() if kind == "PracticeFichePublished"
    ]
    found = []
    for event in published:
        answer = await fiches.request("GET", f"/api/fiches/practices/{event['practice_id']}")
        assert answer.status_code == 200, answer.text
        found.append(answer.json())
    return found


async def test_each_demo_provider_but_the_excluded_gets_a_published_practice_with_their_offer(
    fiches: FichesUnderTest,
) -> None:
    gp = await fiches.professional("gp", ("physician",), first="Jan", last="Peeters")
    both = await fiches.professional("kine", ("physiotherapist", "nurse"), first="Els", last="Maes")
    await fiches.professional("demo", ("nurse",), first="Nele", last="Demo")

    created = await _seed(fiches, count=10, excluded={("Nele", "Demo")})

    assert created == 2
    practices = await _public_practices(fiches)
    offers = {
        (block["profession"], provider["name"])
        for practice in practices
        for block in practice["offer_blocks"]  # type: ignore[attr-defined]
        for provider in block["providers"]
    }
    assert offers == {
        ("physician", "Jan Peeters"),
        ("physiotherapist", "Els Maes"),
        ("nurse", "Els Maes"),
    }
    # Named after the provider and their first profession.
    names = sorted(str(practice["name"]) for practice in practices)
    assert names == ["Huisartsenpraktijk Peeters", "Kinesitherapie Maes"]
    # Each of those providers published the languages they speak.
    spoken = [
        payload["languages"]
        for kind, payload in await fiches.events()
        if kind in ("ProviderFichePublished", "ProviderFicheUpdated") and payload.get("languages")
    ]
    assert sorted(map(tuple, spoken)) == sorted([tuple(languages_for(0)), tuple(languages_for(1))])
    for practice in practices:
        [address] = practice["data"]["addresses"]  # type: ignore[index]
        assert address["postcode"] in {place.postcode for place in PLACES}
    assert {gp.professional_id, both.professional_id} == {
        provider["professional_id"]
        for practice in practices
        for block in practice["offer_blocks"]  # type: ignore[attr-defined]
        for provider in block["providers"]
    }


async def test_at_most_count_practices_and_none_once_fiches_holds_one(
    fiches: FichesUnderTest,
) -> None:
    for number in range(3):
        await fiches.professional(f"p{number}", ("nurse",), last=f"Nurse{number}")

    assert await _seed(fiches, count=2, excluded=set()) == 2
    assert await _seed(fiches, count=2, excluded=set()) == 0  # a restart adds none
    assert len(await _public_practices(fiches)) == 2


async def test_a_platform_where_someone_made_a_practice_gets_no_demo_practices(
    fiches: FichesUnderTest,
) -> None:
    gp = await fiches.professional("gp", ("physician",))
    made = await fiches.request(
        "POST",
        "/api/fiches/practices",
        gp,
        json={"names": [{"name": "Eigen Praktijk", "preferred": True}]},
    )
    assert made.status_code == 201, made.text

    assert await _seed(fiches, count=5, excluded=set()) == 0
    assert [p["name"] for p in await _public_practices(fiches)] == []  # theirs: not published


async def test_without_published_providers_it_says_so_after_its_deadline_and_makes_none(
    fiches: FichesUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="skaart.demo_practices"):
        made = await seed_demo_practices(
            fiches.component.runtime.sessions,
            _commands(fiches),
            count=5,
            excluded_names=set(),
            deadline_s=0.3,
            poll_s=0.05,
            provider_commands=_provider_commands(fiches),
        )

    assert made == 0
    [warning] = caplog.records
    assert "no published provider fiche within 0.3 s" in warning.getMessage()
    assert "restart `skaart up`" in warning.getMessage()
    assert await fiches.event_types() == []


async def test_the_providers_arriving_later_are_waited_for(fiches: FichesUnderTest) -> None:
    seeding = asyncio.create_task(_seed(fiches, count=5, excluded=set()))
    await asyncio.sleep(0.3)
    assert not seeding.done()
    await fiches.professional("late", ("dentist",), last="Laat")

    async with asyncio.timeout(30):
        assert await seeding == 1


def test_every_demo_place_is_placed_by_the_reference_geocoder_with_a_valid_phone() -> None:
    geocoder = ReferenceGeocoder()
    taken: set[str] = set()
    for number in range(len(PLACES) * 2):
        provider = DemoProvider(f"pro-{number}", "An", "Peeters", ("physician",))
        practice = practice_for(provider, number, taken)
        [address] = practice.addresses
        assert geocoder.place_now(address.postcode) is not None, address
        assert practice.phone_numbers[0].number.startswith("+32")
    assert len(taken) == len(PLACES) * 2  # every name distinct


def test_a_demo_practice_says_whom_it_serves_when_it_is_open_and_where_it_is_online() -> None:
    taken: set[str] = set()
    gp = practice_for(DemoProvider("p1", "An", "Öztürk", ("physician",)), 0, taken)
    speech = practice_for(DemoProvider("p2", "Bo", "Maes", ("speech_therapist",)), 1, taken)

    assert [w.url for w in gp.websites] == ["https://huisartsenpraktijk-ozturk.example"]
    assert gp.target_groups == ["gezinnen"] and speech.target_groups == ["kinderen"]
    assert [str(a) for a in speech.age_categories] == ["child", "adolescent"]
    weekdays = {str(period.day) for period in gp.opening_hours}
    assert weekdays == {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
    # Every fourth physician's or physiotherapist's practice offers osteopathy too.
    assert gp.extra_offer == ["osteopaat"] and speech.extra_offer == []


async def test_the_team_opens_a_demo_practice_like_any_other(fiches: FichesUnderTest) -> None:
    await fiches.professional("gp", ("physician",), first="Jan", last="Peeters")
    team = fiches.team()
    assert await _seed(fiches, count=1, excluded=set()) == 1
    [practice] = await _public_practices(fiches)

    answers = {
        view: await fiches.request(
            "GET", f"/api/fiches/practices/{practice['practice_id']}/{view}", team
        )
        for view in ("edit", "managers", "history")
    }
    for view, answer in answers.items():
        assert answer.status_code == 200, (view, answer.text)
    managers = answers["managers"]
    # One manager no one logs in as (no name known: the portal shows "Beheerder 1"),
    # whose rights the team can withdraw or hand to a real person like anyone's.
    [manager] = managers.json()["managers"]
    assert manager["name"] is None
    assert manager["user_id"] not in {user.user_id for user in fiches.users.values()}
