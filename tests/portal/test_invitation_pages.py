"""The invitation page a mailed link opens: show, log in and come back, accept, decline,
and a clear page for a link that no longer works."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.portal.pages_with_fake_services import CSRF, FakeServices, portal_pages, professional

TOKEN = "t0k3n-from-the-mail"
INVITATION = {
    "practice_id": "team",
    "practice_name": "Het Warmste Team",
    "profession": "nurse",
    "expires_at": "2026-12-13T10:00:00Z",
}


def open_invitation(services: FakeServices) -> None:
    services.on("GET", "/api/invitations/link", body=INVITATION)


def test_the_link_shows_the_practice_and_offer_and_asks_to_log_in_then_comes_back() -> None:
    services = FakeServices()
    open_invitation(services)
    services.on("POST", "/api/identity/session/handoff", body={"session": "identity-session"})
    services.on(
        "GET",
        "/api/identity/me",
        body={
            "given_name": "Nele",
            "surname": "Van Schelvergem",
            "status": "active",
            "roles": ["professional"],
            "professional_id": "prof-nele",
            "professions": ["nurse"],
            "language": "nl",
        },
    )
    with portal_pages(services) as browser:
        page = browser.get("/uitnodiging", params={"token": TOKEN})
        assert page.status_code == 200
        assert "Het Warmste Team" in page.text and "verpleegkundige" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "Koppeling bevestigen" not in page.text
        (login,) = [
            line.split('href="')[1].split('"')[0].replace("&amp;", "&")
            for line in page.text.splitlines()
            if "/aanmelden/start?" in line
            and "Aanmelden als professioneel" in line
            and "terug" in line
        ]
        started = browser.get(login)
        assert started.status_code == 303 and "/api/identity/login" in started.headers["location"]
        done = browser.get("/aanmelden/klaar", params={"code": "one-time"})
        assert done.status_code == 303
        back = urlsplit(done.headers["location"])
        assert back.path == "/uitnodiging" and parse_qs(back.query) == {"token": [TOKEN]}

    (shown, *_rest) = services.made("GET", "/api/invitations/link")
    assert shown.params == {"token": TOKEN}


def test_a_professional_ticks_the_offer_and_confirms_the_link() -> None:
    services = FakeServices()
    open_invitation(services)
    services.on(
        "POST",
        "/api/invitations/link/accept",
        body={
            "invitation_id": "inv-1",
            "practice_id": "team",
            "practice_name": "Het Warmste Team",
            "professions": ["nurse"],
        },
    )
    with portal_pages(services, professional(professions=["nurse", "dietitian"])) as browser:
        page = browser.get("/uitnodiging", params={"token": TOKEN})
        # Only the profession the practice named can be chosen.
        assert 'value="nurse"' in page.text and 'value="dietitian"' not in page.text
        assert ">Koppeling bevestigen</button>" in page.text
        done = browser.post(
            "/uitnodiging/bevestigen", data={"csrf_token": CSRF, "token": TOKEN, "aanbod": "nurse"}
        )
    assert done.status_code == 200
    assert "Klaar!" in done.text and "Het Warmste Team" in done.text
    (accepted,) = services.made("POST", "/api/invitations/link/accept")
    assert accepted.json == {"token": TOKEN, "professions": ["nurse"]}
    assert accepted.access_token == "access-token"


def test_confirming_without_a_ticked_offer_asks_for_one_and_sends_nothing() -> None:
    services = FakeServices()
    open_invitation(services)
    with portal_pages(services, professional()) as browser:
        refused = browser.post("/uitnodiging/bevestigen", data={"csrf_token": CSRF, "token": TOKEN})
    assert refused.status_code == 422
    assert "Vink het aanbod aan" in refused.text
    assert not services.made("POST", "/api/invitations/link/accept")


def test_a_citizen_is_told_to_log_in_as_a_professional() -> None:
    services = FakeServices()
    open_invitation(services)
    citizen = professional(roles=["citizen"], professional_id=None, professions=[])
    with portal_pages(services, citizen) as browser:
        page = browser.get("/uitnodiging", params={"token": TOKEN})
    assert "Je bent aangemeld als burger" in page.text
    assert "Koppeling bevestigen" not in page.text


def test_declining_needs_no_account() -> None:
    services = FakeServices()
    open_invitation(services)
    services.on(
        "POST", "/api/invitations/link/decline", body={"invitation_id": "i", "status": "declined"}
    )
    with portal_pages(services) as browser:
        # An anonymous visitor: the page's form gets a fresh session's CSRF token.
        page = browser.get("/uitnodiging", params={"token": TOKEN})
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        declined = browser.post("/uitnodiging/weigeren", data={"csrf_token": token, "token": TOKEN})
    assert declined.status_code == 200
    assert "Uitnodiging geweigerd" in declined.text
    (call,) = services.made("POST", "/api/invitations/link/decline")
    assert call.json == {"token": TOKEN}


@pytest.mark.parametrize(
    ("status", "reason", "says"),
    [
        (410, "already_used", "Deze uitnodiging werd al aanvaard"),
        (410, "expired", "Deze uitnodiging is verlopen"),
        (410, "revoked", "De praktijk heeft deze uitnodiging ingetrokken"),
        (404, "link_not_valid", "Deze link kennen we niet"),
    ],
)
def test_a_link_that_no_longer_works_gets_a_page_that_says_why(
    status: int, reason: str, says: str
) -> None:
    services = FakeServices()
    services.on(
        "GET",
        "/api/invitations/link",
        status,
        {"detail": {"reason": reason, "message": "the service's words"}},
    )
    with portal_pages(services, professional()) as browser:
        page = browser.get("/uitnodiging", params={"token": TOKEN})
    assert page.status_code == status
    assert "Deze link werkt niet meer" in page.text and says in page.text
    assert "the service's words" not in page.text  # the portal's own words, translated


def test_a_link_used_meanwhile_gets_the_same_clear_page_on_confirming() -> None:
    services = FakeServices()
    open_invitation(services)
    services.on(
        "POST",
        "/api/invitations/link/accept",
        410,
        {"detail": {"reason": "already_used", "message": "used"}},
    )
    with portal_pages(services, professional()) as browser:
        page = browser.post(
            "/uitnodiging/bevestigen", data={"csrf_token": CSRF, "token": TOKEN, "aanbod": "nurse"}
        )
    assert page.status_code == 410
    assert "Deze uitnodiging werd al aanvaard" in page.text


def test_a_colleague_who_first_confirms_an_address_is_offered_the_invitation_again() -> None:
    """A first login goes to the e-mail address, not back: after activating it, the page
    offers the invitation they came from."""
    services = FakeServices()
    open_invitation(services)
    services.on("POST", "/api/identity/session/handoff", body={"session": "identity-session"})
    me = {
        "given_name": "Kathleen",
        "surname": "Lambrechts",
        "status": "needs_email",
        "roles": ["professional"],
        "professional_id": "prof-kathleen",
        "professions": ["nurse"],
        "language": "nl",
    }
    services.on("GET", "/api/identity/me", body=me)
    services.on("POST", "/api/identity/activate", body={"language": "nl"})
    with portal_pages(services) as browser:
        page = browser.get("/uitnodiging", params={"token": TOKEN})
        (login,) = [
            line.split('href="')[1].split('"')[0].replace("&amp;", "&")
            for line in page.text.splitlines()
            if "/aanmelden/start?" in line and "Aanmelden als professioneel" in line
        ]
        browser.get(login)
        done = browser.get("/aanmelden/klaar", params={"code": "one-time"})
        assert done.headers["location"] == "/e-mailadres"

        services.on("GET", "/api/identity/me", body=me | {"status": "active"})
        form = browser.get("/activeren", params={"token": "activation-token"})
        csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        activated = browser.post(
            "/activeren", data={"csrf_token": csrf, "token": "activation-token"}
        )
        assert activated.status_code == 200, activated.text
        assert f'href="/uitnodiging?token={TOKEN}">Verder waar je was</a>' in activated.text
        # Offered once: a later activation page does not send them there again.
        again = browser.post("/activeren", data={"csrf_token": csrf, "token": "activation-token"})
        assert "Verder waar je was" not in again.text
