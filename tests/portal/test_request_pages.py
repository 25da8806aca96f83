"""Requests: mine and their state, managers deciding on their practice, the team's work
queue (people and fiches by name, refusal with a reason), history restore, removal."""

from __future__ import annotations

from typing import Any

from tests.portal.pages_with_fake_services import CSRF, FakeServices, portal_pages, professional

LINK_REQUEST: dict[str, Any] = {
    "request_id": "req-1",
    "kind": "link",
    "status": "open",
    "fiche_type": "practice",
    "fiche_id": "team",
    "fiche_name": "Het Warmste Team",
    "requester_user_id": "user-nele",
    "requester_name": "Nele Van Schelvergem",
    "payload": {"professions": ["nurse"]},
    "created_at": "2026-11-20T09:00:00Z",
    "decided_at": None,
    "comment": None,
}
TEAM = professional(name="Team Sociale Kaart", roles=["team"], professional_id=None, professions=[])


def test_my_requests_show_kind_fiche_and_state_with_the_reason() -> None:
    services = FakeServices()
    services.on(
        "GET",
        "/api/fiches/me/requests",
        body=[
            LINK_REQUEST,
            {
                **LINK_REQUEST,
                "request_id": "req-2",
                "kind": "rights",
                "status": "declined",
                "comment": "Vraag het aan de praktijk.",
                "payload": {"motivation": None},
            },
        ],
    )
    with portal_pages(services, professional()) as browser:
        page = browser.get("/mijn-aanvragen")
    assert page.status_code == 200
    assert "Aanbod koppelen" in page.text and "Het Warmste Team" in page.text
    assert "verpleegkundige" in page.text and ">Open<" in page.text
    assert "Geweigerd" in page.text and "Vraag het aan de praktijk." in page.text


def test_a_manager_approves_a_link_request_on_their_practice() -> None:
    services = FakeServices()
    services.on("GET", "/api/fiches/practices/team/requests", body=[LINK_REQUEST])
    services.on(
        "GET",
        "/api/fiches/practices/team",
        body={"practice_id": "team", "name": "Het Warmste Team", "data": {}, "offer_blocks": []},
    )
    services.on("GET", "/api/fiches/practices/team/edit", body={"draft": {}, "offers": []})
    services.on("POST", "/api/fiches/requests/req-1/decision", body={"status": "approved"})
    with portal_pages(services, professional(name="Marc Creemers")) as browser:
        page = browser.get("/praktijken/team/aanvragen")
        assert "Nele Van Schelvergem" in page.text and "user-nele" not in page.text
        decided = browser.post(
            "/praktijken/team/aanvragen/req-1/beslissing",
            data={"csrf_token": CSRF, "beslissing": "approved", "reden": ""},
        )
    assert decided.status_code == 303
    (call,) = services.made("POST", "/api/fiches/requests/req-1/decision")
    assert call.json == {"decision": "approved", "comment": None}


def test_the_team_refuses_only_with_a_reason() -> None:
    services = FakeServices()
    services.on(
        "GET",
        "/api/fiches/team/requests",
        body={"items": [LINK_REQUEST], "total": 1, "limit": 25, "offset": 0},
    )
    services.on("POST", "/api/fiches/requests/req-1/decision", body={"status": "declined"})
    with portal_pages(services, TEAM) as browser:
        queue = browser.get("/team/werklijst")
        assert queue.status_code == 200
        assert "Nele Van Schelvergem" in queue.text and "Het Warmste Team" in queue.text
        assert ">Werklijst</a>" in queue.text  # the team's menu entry
        assert "<p>1 aanvraag</p>" in queue.text

        refused = browser.post(
            "/team/aanvragen/req-1/beslissing",
            data={"csrf_token": CSRF, "beslissing": "declined", "reden": "  "},
        )
        assert refused.status_code == 422
        assert 'id="fout-reden-req-1"' in refused.text and "Geef een reden" in refused.text
        assert not services.made("POST", "/api/fiches/requests/req-1/decision")

        decided = browser.post(
            "/team/aanvragen/req-1/beslissing",
            data={"csrf_token": CSRF, "beslissing": "declined", "reden": "Geen zorgverlener."},
        )
    assert decided.status_code == 303
    (call,) = services.made("POST", "/api/fiches/requests/req-1/decision")
    assert call.json == {"decision": "declined", "comment": "Geen zorgverlener."}
    (listed, *_) = services.made("GET", "/api/fiches/team/requests")
    assert listed.params["status"] == "open"


def test_the_team_restores_an_earlier_version_of_a_fiche() -> None:
    services = FakeServices()
    services.on(
        "GET",
        "/api/fiches/practices/team/history",
        body=[
            {
                "version": 1,
                "action": "create",
                "at": "2026-11-01T10:00:00Z",
                "changed_fields": ["names"],
                "snapshot": {"names": []},
            },
            {
                "version": 2,
                "action": "save",
                "at": "2026-11-02T10:00:00Z",
                "changed_fields": ["wijken"],
                "snapshot": {"names": []},
            },
        ],
    )
    services.on(
        "POST", "/api/fiches/practices/team/history/1/restore", body={"changed_fields": ["wijken"]}
    )
    with portal_pages(services, TEAM) as browser:
        page = browser.get("/team/geschiedenis/practice/team")
        assert page.status_code == 200 and "Wijken" in page.text
        restored = browser.post("/team/geschiedenis/practice/team/1", data={"csrf_token": CSRF})
    assert restored.status_code == 303
    assert services.made("POST", "/api/fiches/practices/team/history/1/restore")


def test_removal_is_asked_from_a_fiche_page_with_a_reason() -> None:
    services = FakeServices()
    services.on("POST", "/api/fiches/removal-requests", 201, {"request_id": "req-9"})
    services.on("GET", "/api/fiches/practices/team", body={"name": "Het Warmste Team"})
    with portal_pages(services, professional()) as browser:
        form = browser.get("/verwijderen-aanvragen?soort=practice&fiche=team")
        assert form.status_code == 200 and "Waarom mag de fiche weg?" in form.text
        # Which fiche the removal is asked for, by name.
        assert "Praktijkfiche: <strong>Het Warmste Team</strong>" in form.text
        empty = browser.post(
            "/verwijderen-aanvragen",
            data={"csrf_token": CSRF, "soort": "practice", "fiche": "team", "reden": ""},
        )
        assert empty.status_code == 422 and 'id="fout-reden"' in empty.text
        asked = browser.post(
            "/verwijderen-aanvragen",
            data={"csrf_token": CSRF, "soort": "practice", "fiche": "team", "reden": "Gesloten."},
        )
    assert asked.status_code == 303
    (call,) = services.made("POST", "/api/fiches/removal-requests")
    assert call.json == {"fiche_type": "practice", "fiche_id": "team", "reason": "Gesloten."}


def test_a_link_request_without_a_requester_name_is_named_by_its_provider_fiche() -> None:
    services = FakeServices()
    unnamed = {
        **LINK_REQUEST,
        "requester_name": None,
        "payload": {"professions": ["nurse"], "provider_fiche_id": "fiche-nele"},
    }
    services.on(
        "GET",
        "/api/fiches/team/requests",
        body={"items": [unnamed], "total": 1, "limit": 25, "offset": 0},
    )
    services.on(
        "GET",
        "/api/fiches/providers/fiche-nele",
        body={"official_first_name": "Nele", "official_last_name": "Van Schelvergem"},
    )
    with portal_pages(services, TEAM) as browser:
        queue = browser.get("/team/werklijst")
    assert "Gevraagd door Nele Van Schelvergem" in queue.text
    assert "user-nele" not in queue.text


PROPOSAL: dict[str, Any] = {
    **LINK_REQUEST,
    "request_id": "req-3",
    "kind": "proposal",
    "requester_name": "Filip Wuyts",
    "payload": {
        "changes": {
            "phone_numbers": [{"number": "+3292658112", "preferred": True}],
            "addresses": [
                {
                    "street": "Kouter",
                    "number": "12",
                    "box": "3",
                    "postcode": "9000",
                    "municipality": "Gent",
                    "preferred": True,
                }
            ],
            "opening_hours": [{"day": "monday", "opens": "08:30", "closes": "12:00"}],
            "age_categories": ["senior"],
            "websites": [],
        }
    },
}


def test_a_proposed_change_shows_each_field_now_and_as_proposed_to_whoever_decides() -> None:
    # fiches gives those who decide the edit version's values of the proposed fields.
    decided_on = {
        **PROPOSAL,
        "current": {
            "phone_numbers": [{"number": "+3292658111", "preferred": True}],
            "addresses": [
                {"street": "Kouter", "number": "12", "postcode": "9000", "municipality": "Gent"}
            ],
            "opening_hours": [
                {"day": "monday", "opens": "08:30", "closes": "18:00"},
                {"day": "tuesday", "opens": "08:30", "closes": "18:00"},
            ],
            "age_categories": None,
            "websites": [{"url": "https://www.warmsteteam.be"}],
        },
    }
    services = FakeServices()
    services.on(
        "GET",
        "/api/fiches/team/requests",
        body={"items": [decided_on], "total": 1, "limit": 25, "offset": 0},
    )
    services.on("GET", "/api/fiches/practices/team/requests", body=[decided_on])
    services.on(
        "GET",
        "/api/fiches/practices/team",
        body={"practice_id": "team", "name": "Het Warmste Team", "data": {}, "offer_blocks": []},
    )
    services.on("GET", "/api/fiches/practices/team/edit", body={"draft": {}, "offers": []})
    with portal_pages(services, TEAM) as browser:
        queue = browser.get("/team/werklijst")
    with portal_pages(services, professional(name="Marc Creemers")) as browser:
        of_practice = browser.get("/praktijken/team/aanvragen")

    for page in (queue, of_practice):
        assert page.status_code == 200
        text = " ".join(page.text.split())
        assert '<th scope="col">Nu</th><th scope="col">Voorstel</th>' in text
        assert (
            '<th scope="row">Telefoonnummers</th><td>09 265 81 11</td><td>09 265 81 12</td>' in text
        )
        assert (
            '<th scope="row">Adressen</th><td>Kouter 12, 9000 Gent</td>'
            "<td>Kouter 12 bus 3, 9000 Gent</td>" in text
        )
        assert (
            '<th scope="row">Openingsuren</th><td>maandag 08:30-18:00<br>dinsdag 08:30-18:00</td>'
            "<td>maandag 08:30-12:00</td>" in text
        )
        assert '<th scope="row">Prioritaire leeftijdscategorie</th><td>(leeg)</td>' in text
        assert (
            '<th scope="row">Websites</th><td>https://www.warmsteteam.be</td>'
            "<td>(leeg gemaakt)</td>" in text
        )
        assert "+3292658112" not in text and "+3292658111" not in text


def test_a_requester_reads_the_values_they_proposed() -> None:
    # A requester's own list carries no `current`: the edit version is not theirs to read.
    services = FakeServices()
    services.on("GET", "/api/fiches/me/requests", body=[PROPOSAL])
    with portal_pages(services, professional()) as browser:
        mine = browser.get("/mijn-aanvragen")
    assert mine.status_code == 200
    text = " ".join(mine.text.split())
    assert "Telefoonnummers wordt</dt> <dd>09 265 81 12</dd>" in text
    assert "Adressen wordt</dt> <dd>Kouter 12 bus 3, 9000 Gent</dd>" in text
    assert "Openingsuren wordt</dt> <dd>maandag 08:30-12:00</dd>" in text
    assert "<dd>ouderen</dd>" in text
    assert "Websites wordt</dt> <dd>(leeg gemaakt)</dd>" in text
    assert "+3292658112" not in text and "<table" not in text.split("Wijzigt")[1]


def test_a_refusal_page_speaks_the_pages_language_and_marks_the_services_english() -> None:
    services = FakeServices()
    services.on(
        "GET",
        "/api/fiches/team/requests",
        403,
        {
            "type": "urn:skaart:problem:forbidden",
            "code": "forbidden",
            "title": "Not allowed",
            "status": 403,
            "detail": "the work queue is the editorial team's",
            "what_to_do": "Check that you are logged in as the right person.",
            "errors": [],
        },
    )
    with portal_pages(services, professional()) as browser:
        page = browser.get("/team/werklijst")
    assert page.status_code == 403
    assert "Dit mag je niet doen of bekijken met dit gebruikersprofiel." in page.text
    assert "vraag ze dan aan een beheerder van de praktijk of aan de redactie" in page.text
    assert '<span lang="en">the work queue is the editorial team&#39;s</span>' in page.text
    assert "Check that you are logged in" not in page.text


def test_a_request_decided_meanwhile_is_said_at_the_top_not_next_to_a_gone_card() -> None:
    services = FakeServices()
    # A colleague decided req-1: the queue no longer lists it.
    services.on(
        "GET",
        "/api/fiches/team/requests",
        body={"items": [], "total": 0, "limit": 25, "offset": 0},
    )
    with portal_pages(services, TEAM) as browser:
        refused = browser.post(
            "/team/aanvragen/req-1/beslissing",
            data={"csrf_token": CSRF, "beslissing": "declined", "reden": ""},
        )
    assert refused.status_code == 422
    assert "Over deze aanvraag werd intussen al beslist." in refused.text
    assert "Geef een reden" not in refused.text
