"""What people type is validated: a 422 that names the field, and nothing stored."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fiches.adapters.tables import fiche_history, fiche_requests, practice_fiches, provider_fiches
from fiches.domain.practice_fiche import PracticeData
from tests.fiches.conftest import FichesUnderTest
from tests.fiches.test_guide_scenarios import WARMSTE_TEAM
from tests.support.problems import error_locs, problem_of


def with_change(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(WARMSTE_TEAM)
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    if isinstance(target, list) and path[-1] == len(target):
        target.append(value)
    else:
        target[path[-1]] = value
    return body


BAD_PRACTICES = [
    pytest.param(
        ("phone_numbers", 1), {"number": "12345"}, ["phone_numbers", 1, "number"], id="phone"
    ),
    pytest.param(
        ("phone_numbers", 0, "number"),
        "+31 20 123 4567",
        ["phone_numbers", 0, "number"],
        id="phone-not-belgian",
    ),
    pytest.param(
        ("email_addresses", 0, "email"),
        "onthaal@",
        ["email_addresses", 0, "email"],
        id="email",
    ),
    pytest.param(("websites", 0, "url"), "warmsteteam", ["websites", 0, "url"], id="website"),
    pytest.param(
        ("addresses", 0, "postcode"), "999", ["addresses", 0, "postcode"], id="postcode-short"
    ),
    pytest.param(
        ("addresses", 0, "postcode"), "0900", ["addresses", 0, "postcode"], id="postcode-zero"
    ),
    pytest.param(
        ("phone_numbers",),
        [{"number": "09 265 81 11"}, {"number": "0470 12 34 56"}],
        ["phone_numbers"],
        id="no-preferred-phone",
    ),
    pytest.param(
        ("names",),
        [{"name": "A", "preferred": True}, {"name": "B", "preferred": True}],
        ["names"],
        id="two-preferred-names",
    ),
    pytest.param(("names",), [], ["names"], id="no-name"),
    pytest.param(
        ("contact_persons", 0, "phone"), "abc", ["contact_persons", 0, "phone"], id="contact"
    ),
    pytest.param(
        ("opening_hours", 0, "closes"), "07:00", ["opening_hours", 0], id="closes-before-opens"
    ),
    pytest.param(("age_categories", 0), "toddler", ["age_categories", 0], id="age-category"),
    pytest.param(
        ("contact_persons",),
        [{"name": f"Persoon {n}", "role": "onthaal"} for n in range(51)],
        ["contact_persons"],
        id="too-many-contact-persons",
    ),
    pytest.param(
        ("opening_hours",),
        [{"day": "monday", "opens": "08:00", "closes": "09:00"}] * 101,
        ["opening_hours"],
        id="too-many-opening-hours",
    ),
    pytest.param(("unknown_field",), "x", ["unknown_field"], id="unknown-field"),
    # Free text with control characters: a name that would add a header line to a mail.
    pytest.param(
        ("names", 0, "name"),
        "Het Warmste Team\r\nBcc: everyone@example.org",
        ["names", 0, "name"],
        id="name-with-line-break",
    ),
    pytest.param(("target_groups", 0), "kinderen\x1b[2J", ["target_groups", 0], id="escape"),
    pytest.param(
        ("contact_persons", 0, "role"), "onthaal\x00", ["contact_persons", 0, "role"], id="nul"
    ),
    pytest.param(
        ("names", 0, "name"), "Team \u202egnitsoh", ["names", 0, "name"], id="bidi-override"
    ),
]


async def test_an_opening_time_of_the_wrong_form_is_refused_saying_how_to_write_one(
    fiches: FichesUnderTest,
) -> None:
    marc = await fiches.professional("marc", ("physician",))
    body = with_change(("opening_hours", 0, "opens"), "8u30")

    created = await fiches.request("POST", "/api/fiches/practices", marc, json=body)

    assert created.status_code == 422, created.text
    assert error_locs(created) == [["body", "opening_hours", 0, "opens"]]
    assert problem_of(created)["detail"] == (
        "opens must be a time of day as HH:MM, 00:00 to 23:59 (08:30)"
    )
    assert await fiches.count(practice_fiches) == 0


@pytest.mark.parametrize(("path", "value", "loc"), BAD_PRACTICES)
async def test_bad_practice_input_is_refused_with_the_field_and_nothing_is_stored(
    fiches: FichesUnderTest, path: tuple[str | int, ...], value: Any, loc: list[Any]
) -> None:
    marc = await fiches.professional("marc", ("physician",))
    body = with_change(path, value)

    created = await fiches.request("POST", "/api/fiches/practices?publish=true", marc, json=body)
    assert created.status_code == 422, created.text
    locs = error_locs(created)
    assert ["body", *loc] in locs, locs
    message = problem_of(created)["errors"][locs.index(["body", *loc])]["message"]
    assert message
    assert await fiches.count(practice_fiches) == 0
    assert await fiches.count(fiche_history) == 0
    assert [t for t, _ in await fiches.events()] == ["ProviderFichePublished"]

    # The same on a save of an existing fiche, and on a proposed change.
    ok = await fiches.request("POST", "/api/fiches/practices", marc, json=WARMSTE_TEAM)
    practice = ok.json()["practice_id"]
    history = await fiches.count(fiche_history)
    saved = await fiches.request("PUT", f"/api/fiches/practices/{practice}/edit", marc, json=body)
    assert saved.status_code == 422
    assert ["body", *loc] in error_locs(saved)
    edit = (await fiches.request("GET", f"/api/fiches/practices/{practice}/edit", marc)).json()
    assert edit["draft"] == PracticeData.model_validate(WARMSTE_TEAM).model_dump(mode="json")
    assert await fiches.count(fiche_history) == history

    field = path[0]
    proposal = await fiches.request(
        "POST",
        f"/api/fiches/practices/{practice}/proposals",
        fiches.citizen("buur"),
        json={"changes": {field: body.get(field, value)}},
    )
    assert proposal.status_code == 422
    assert ["body", "changes", *loc] in error_locs(proposal)
    assert await fiches.count(fiche_requests) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("official_last_name", "Janssens"),
        ("official_first_name", "Bert"),
        ("riziv_number", "11111111111"),
        ("professions", [{"profession": "dentist"}]),
        ("qualification_code", "004"),
        ("convention", "conventioned"),
    ],
)
async def test_authentic_fields_are_read_only_and_the_error_says_how_to_report(
    fiches: FichesUnderTest, field: str, value: Any
) -> None:
    albert = await fiches.professional("albert", ("physician",), first="Albert", last="Segers")
    response = await fiches.request(
        "PUT",
        f"/api/fiches/providers/{albert.fiche_id}/edit?publish=true",
        albert,
        json={"preferred_name": "Bert Segers", field: value},
    )
    assert response.status_code == 422
    assert error_locs(response) == [["body", field]]
    (error,) = problem_of(response)["errors"]
    assert "authentic source" in error["message"]
    assert f"/api/fiches/providers/{albert.fiche_id}/source-errors" in error["message"]
    async with fiches.component.runtime.sessions() as session:
        import sqlalchemy as sa

        row = (await session.execute(sa.select(provider_fiches))).one()
    assert (row.official_first_name, row.own_draft, row.revision) == ("Albert", None, 1)

    # The way out the message names: a source_error request the team sees.
    reported = await fiches.request(
        "POST",
        f"/api/fiches/providers/{albert.fiche_id}/source-errors",
        albert,
        json={"description": f"my {field} is wrong"},
    )
    assert reported.status_code == 201
    queue = await fiches.request(
        "GET", "/api/fiches/team/requests", fiches.team(), params={"kind": "source_error"}
    )
    assert [r["request_id"] for r in queue.json()["items"]] == [reported.json()["request_id"]]


async def test_bad_provider_contact_data_is_refused(fiches: FichesUnderTest) -> None:
    albert = await fiches.professional("albert", ("physician",))
    response = await fiches.request(
        "PUT",
        f"/api/fiches/providers/{albert.fiche_id}/edit",
        albert,
        json={"languages": ["dutch"], "email_addresses": [{"email": "bert.segers.be"}]},
    )
    assert response.status_code == 422
    locs = error_locs(response)
    assert ["body", "languages", 0] in locs
    assert ["body", "email_addresses", 0, "email"] in locs


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    postcode=st.one_of(
        st.integers(min_value=0, max_value=999).map(str),
        st.integers(min_value=10000, max_value=10**7).map(str),
        st.text(min_size=1, max_size=6).filter(lambda s: not s.strip().isdigit()),
    )
)
def test_no_postcode_outside_1000_9999_is_accepted(postcode: str) -> None:
    body = with_change(("addresses", 0, "postcode"), postcode)
    with pytest.raises(ValueError) as raised:
        PracticeData.model_validate(body)
    assert "postcode" in str(raised.value)


@given(postcode=st.integers(min_value=1000, max_value=9999))
def test_every_belgian_postcode_is_accepted(postcode: int) -> None:
    data = PracticeData.model_validate(with_change(("addresses", 0, "postcode"), str(postcode)))
    assert data.addresses[0].postcode == str(postcode)


async def test_free_text_with_control_characters_is_refused_naming_field_and_character(
    fiches: FichesUnderTest,
) -> None:
    albert = await fiches.professional("albert", ("physician",), first="Albert", last="Segers")
    edit = f"/api/fiches/providers/{albert.fiche_id}/edit"
    refused = await fiches.request(
        "PUT", edit, albert, json={"preferred_name": "Bert\nBcc: x@example.org"}
    )
    assert refused.status_code == 422
    assert error_locs(refused) == [["body", "preferred_name"]]
    (error,) = problem_of(refused)["errors"]
    assert "U+000A" in error["message"] and "position 5" in error["message"]

    # A description may span lines; other control characters are refused there too.
    multi = await fiches.request("PUT", edit, albert, json={"description": "Line 1\nLine 2"})
    assert multi.status_code == 200, multi.text
    bell = await fiches.request("PUT", edit, albert, json={"description": "Ring\x07"})
    assert bell.status_code == 422
    assert error_locs(bell) == [["body", "description"]]

    report = await fiches.request(
        "POST",
        f"/api/fiches/providers/{albert.fiche_id}/source-errors",
        albert,
        json={"description": "wrong\x1b]8;;https://evil.example\x1b\\"},
    )
    assert report.status_code == 422
    assert error_locs(report) == [["body", "description"]]
