"""Exports: ask for one, see its state, and download from the page the mail opens."""

from __future__ import annotations

from tests.portal.pages_with_fake_services import CSRF, FakeServices, portal_pages, professional

STATE = {
    "export_id": "exp-1",
    "status": "ready",
    "formats": ["csv", "json"],
    "requested_at": "2026-11-29T08:00:00Z",
    "ready_at": "2026-11-29T08:00:05Z",
    "expires_at": "2026-12-06T08:00:05Z",
    "fiche_count": 3,
}


def test_an_export_is_asked_for_and_its_state_shown() -> None:
    services = FakeServices()
    services.on("GET", "/api/fiches/exports", body={"exports": []})
    services.on("POST", "/api/fiches/exports", 202, {**STATE, "status": "pending"})
    with portal_pages(services, professional()) as browser:
        empty = browser.get("/exports")
        assert "Je vroeg nog geen export aan." in empty.text
        # fiches lists the user's exports: the same in every browser and session.
        services.on("GET", "/api/fiches/exports", body={"exports": [STATE]})
        none_chosen = browser.post("/exports", data={"csrf_token": CSRF})
        assert none_chosen.status_code == 422 and "Kies minstens één formaat" in none_chosen.text
        asked = browser.post("/exports", data={"csrf_token": CSRF, "formaat": ["csv"]})
        assert asked.status_code == 303
        page = browser.get(asked.headers["location"])
    assert "Klaar" in page.text and "2026-12-06" in page.text
    (call,) = services.made("POST", "/api/fiches/exports")
    assert call.json == {"formats": ["csv"]}


def test_the_mailed_link_opens_a_page_whose_buttons_download_through_fiches() -> None:
    services = FakeServices()
    services.on("GET", "/api/fiches/exports/exp-1/download", body={"fiches": []})
    with portal_pages(services) as browser:  # no login: the signature is the permission
        page = browser.get("/exports/exp-1/downloaden?expires=1800000000&signature=s1g")
        assert page.status_code == 200
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "JSON downloaden" in page.text and "CSV downloaden" in page.text
        file = browser.get("/exports/exp-1/bestand?formaat=json&expires=1800000000&signature=s1g")
    assert file.status_code == 200 and file.json() == {"fiches": []}
    (call,) = services.made("GET", "/api/fiches/exports/exp-1/download")
    assert call.params == {"expires": 1800000000, "signature": "s1g", "format": "json"}


def test_an_expired_link_gets_a_page_that_says_what_to_do() -> None:
    services = FakeServices()
    services.on("GET", "/api/fiches/exports/exp-1/download", 410, {"detail": "expired"})
    with portal_pages(services) as browser:
        page = browser.get("/exports/exp-1/bestand?formaat=csv&expires=1&signature=s1g")
    assert page.status_code == 410
    assert "De link is verlopen" in page.text and "vraag een nieuwe export aan" in page.text
