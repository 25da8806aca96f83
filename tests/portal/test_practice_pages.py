"""Practice fiche pages: create, the edit version and its actions, and the actions of a
user without rights — which call each makes, and how a refusal is shown."""

from __future__ import annotations

from typing import Any

from tests.portal.pages_with_fake_services import CSRF, FakeServices, portal_pages, professional

PRACTICE = "practice-1"
DRAFT = {
    "names": [{"name": "Het Warmste Team", "preferred": True}],
    "addresses": [],
    "phone_numbers": [
        {"number": "+3292658111", "preferred": False},
        {"number": "+32470123456", "preferred": True},
    ],
    "email_addresses": [],
    "websites": [],
    "target_groups": [],
    "age_categories": [],
    "wijken": ["Brugse Poort"],
    "contact_persons": [],
    "opening_hours": [],
    "extra_offer": [],
}


def managed_practice(services: FakeServices, offers: list[dict[str, Any]] | None = None) -> None:
    services.on(
        "GET",
        f"/api/fiches/practices/{PRACTICE}/edit",
        body={
            "practice_id": PRACTICE,
            "draft": DRAFT,
            "published": True,
            "published_version": DRAFT,
            "revision": 3,
            "unpublished_changes": False,
            "managers": ["user-nele"],
            "offers": offers or [],
        },
    )
    services.on(
        "GET",
        f"/api/fiches/practices/{PRACTICE}/managers",
        body={
            "managers": [{"user_id": "user-nele", "name": "Nele Van Schelvergem"}],
            "manager_user_ids": ["user-nele"],
        },
    )
    services.on("GET", f"/api/invitations/practices/{PRACTICE}/invitations", body=[])


def published_practice(services: FakeServices) -> None:
    services.on(
        "GET",
        f"/api/fiches/practices/{PRACTICE}",
        body={
            "practice_id": PRACTICE,
            "name": "Het Warmste Team",
            "revision": 3,
            "data": DRAFT,
            "offer_blocks": [],
        },
    )


def test_creating_a_practice_sends_its_data_and_own_offer_and_opens_the_edit_version() -> None:
    services = FakeServices()
    services.on("POST", "/api/fiches/practices", 201, {"practice_id": PRACTICE, "published": True})
    managed_practice(services)
    with portal_pages(services, professional()) as browser:
        page = browser.get("/praktijken/nieuw")
        assert page.status_code == 200
        assert "Praktijkfiche aanmaken" in page.text
        assert 'name="aanbod" value="nurse"' in page.text
        assert "Opslaan en publiceren" in page.text

        created = browser.post(
            "/praktijken/nieuw",
            data={
                "csrf_token": CSRF,
                "naam-0": "Het Warmste Team",
                "telefoon-0": "09 265 81 11",
                "telefoon-1": "0470 12 34 56",
                "telefoon-voorkeur": "1",
                "aanbod": "nurse",
                "leeftijd": ["adult", "senior"],
                "actie": "publiceren",
            },
        )
        assert created.status_code == 303
        assert created.headers["location"] == f"/praktijken/{PRACTICE}/bewerken?gelukt=aangemaakt"

        (call,) = services.made("POST", "/api/fiches/practices")
        assert call.access_token == "access-token"
        assert call.params == {"publish": "true"}
        assert call.json["names"] == [{"name": "Het Warmste Team", "preferred": True}]
        assert [p["preferred"] for p in call.json["phone_numbers"]] == [False, True]
        assert call.json["offers"] == ["nurse"]
        assert call.json["age_categories"] == ["adult", "senior"]

        edit = browser.get(created.headers["location"])
        assert edit.status_code == 200
        assert "De praktijkfiche is aangemaakt" in edit.text


def test_a_refused_save_shows_the_error_next_to_the_row_and_keeps_what_was_typed() -> None:
    services = FakeServices()
    managed_practice(services)
    services.on(
        "PUT",
        f"/api/fiches/practices/{PRACTICE}/edit",
        422,
        {
            "detail": [
                {
                    "loc": ["body", "phone_numbers", 1, "number"],
                    "msg": "'12' is not a valid Belgian phone number",
                }
            ]
        },
    )
    with portal_pages(services, professional()) as browser:
        refused = browser.post(
            f"/praktijken/{PRACTICE}/bewerken",
            data={
                "csrf_token": CSRF,
                "naam-0": "Het Warmste Team",
                "telefoon-0": "09 265 81 11",
                "telefoon-1": "",
                "telefoon-2": "12",
                "telefoon-voorkeur": "0",
                "actie": "opslaan",
            },
        )
    assert refused.status_code == 422
    # The error sits at the third row (the empty second row was not sent).
    assert 'id="fout-telefoon-2"' in refused.text
    assert 'id="veld-telefoon-2" name="telefoon-2" type="tel" value="12"' in refused.text
    assert 'aria-invalid="true" aria-describedby="fout-telefoon-2"' in refused.text
    assert "Geef een Belgisch telefoonnummer" in refused.text
    assert 'role="alert"' in refused.text


def test_a_refused_save_speaks_the_users_language() -> None:
    services = FakeServices()
    managed_practice(services)
    services.on(
        "PUT",
        f"/api/fiches/practices/{PRACTICE}/edit",
        422,
        {"detail": [{"loc": ["body", "addresses", 0, "postcode"], "msg": "no"}]},
    )
    with portal_pages(services, professional(), language="fr") as browser:
        refused = browser.post(
            f"/praktijken/{PRACTICE}/bewerken",
            data={"csrf_token": CSRF, "naam-0": "X", "adres-0-postcode": "12", "actie": "opslaan"},
        )
    assert refused.status_code == 422
    assert "Indiquez un code postal belge" in refused.text
    assert "Enregistrer et publier" in refused.text


def test_the_edit_version_shows_the_preferred_entries_and_saves_and_publishes() -> None:
    services = FakeServices()
    managed_practice(services)
    services.on(
        "PUT", f"/api/fiches/practices/{PRACTICE}/edit", 200, {"changed_fields": ["wijken"]}
    )
    with portal_pages(services, professional()) as browser:
        page = browser.get(f"/praktijken/{PRACTICE}/bewerken")
        assert page.status_code == 200
        # As people write it (fiches stores +32470123456, and takes it back as typed).
        assert 'value="0470 12 34 56"' in page.text
        assert 'name="telefoon-voorkeur" value="1"\n    checked' in page.text
        assert "Nele Van Schelvergem" in page.text and "user-nele</" not in page.text
        assert "E-mailadres of naam" in page.text

        saved = browser.post(
            f"/praktijken/{PRACTICE}/bewerken",
            data={"csrf_token": CSRF, "naam-0": "Het Warmste Team", "actie": "publiceren"},
        )
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("gelukt=gepubliceerd")
    (call,) = services.made("PUT", f"/api/fiches/practices/{PRACTICE}/edit")
    assert call.params == {"publish": "true"}


def test_the_offer_checkboxes_link_and_unlink_only_the_users_own_professions() -> None:
    services = FakeServices()
    managed_practice(
        services,
        offers=[
            {"professional_id": "prof-nele", "profession": "nurse", "in_edit_version": True},
            {"professional_id": "prof-marc", "profession": "physician", "in_edit_version": True},
        ],
    )
    services.on("POST", f"/api/fiches/practices/{PRACTICE}/offers", 200, {"linked": ["dietitian"]})
    services.on("DELETE", f"/api/fiches/practices/{PRACTICE}/offers/.*", 204)
    nele = professional(professions=["nurse", "dietitian"])
    with portal_pages(services, nele) as browser:
        done = browser.post(
            f"/praktijken/{PRACTICE}/aanbod", data={"csrf_token": CSRF, "aanbod": "dietitian"}
        )
    assert done.status_code == 303
    (linked,) = services.made("POST", f"/api/fiches/practices/{PRACTICE}/offers")
    assert linked.json == {"professions": ["dietitian"]}
    (unlinked,) = services.made("DELETE", f"/api/fiches/practices/{PRACTICE}/offers/.*")
    assert unlinked.path.endswith("/offers/prof-nele/nurse")


def test_inviting_colleagues_sends_each_address_once_in_the_users_language() -> None:
    services = FakeServices()
    managed_practice(services)
    services.on(
        "POST",
        f"/api/invitations/practices/{PRACTICE}/invitations",
        201,
        {"results": [{"index": 0, "outcome": "invited"}, {"index": 1, "outcome": "invited"}]},
    )
    with portal_pages(services, professional(), language="en") as browser:
        sent = browser.post(
            f"/praktijken/{PRACTICE}/uitnodigen",
            data={"csrf_token": CSRF, "uitnodigen": "marc@example.be\nines@example.be, "},
        )
    assert sent.status_code == 303
    (call,) = services.made("POST", f"/api/invitations/practices/{PRACTICE}/invitations")
    assert call.json == {"emails": ["marc@example.be", "ines@example.be"], "language": "en"}


def test_a_refused_invitation_names_the_address_by_position_and_keeps_the_text() -> None:
    services = FakeServices()
    managed_practice(services)
    services.on(
        "POST",
        f"/api/invitations/practices/{PRACTICE}/invitations",
        422,
        {"detail": [{"loc": ["body", "emails", 1], "msg": "invalid_address"}]},
    )
    with portal_pages(services, professional()) as browser:
        refused = browser.post(
            f"/praktijken/{PRACTICE}/uitnodigen",
            data={"csrf_token": CSRF, "uitnodigen": "marc@example.be\nnot-an-address"},
        )
    assert refused.status_code == 422
    assert "E-mailadres 2 klopt niet" in refused.text
    assert "not-an-address</textarea>" in refused.text


def test_rights_are_granted_by_email_address_or_name_and_withdrawn_by_name() -> None:
    services = FakeServices()
    managed_practice(services)
    services.on("POST", f"/api/fiches/practices/{PRACTICE}/managers", 200, {})
    services.on("DELETE", f"/api/fiches/practices/{PRACTICE}/managers/.*", 200, {})
    with portal_pages(services, professional()) as browser:
        for typed in ("secretariaat@warmsteteam.be", "Ines Peeters"):
            granted = browser.post(
                f"/praktijken/{PRACTICE}/beheerders", data={"csrf_token": CSRF, "beheerder": typed}
            )
            assert granted.status_code == 303
        withdrawn = browser.post(
            f"/praktijken/{PRACTICE}/beheerders/intrekken",
            data={"csrf_token": CSRF, "beheerder": "user-nele"},
        )
        assert withdrawn.status_code == 303
    grants = services.made("POST", f"/api/fiches/practices/{PRACTICE}/managers")
    assert [g.json for g in grants] == [
        {"email": "secretariaat@warmsteteam.be"},
        {"name": "Ines Peeters"},
    ]
    assert services.made("DELETE", f"/api/fiches/practices/{PRACTICE}/managers/user-nele")


def test_an_unknown_person_is_refused_next_to_the_field() -> None:
    services = FakeServices()
    managed_practice(services)
    services.on("POST", f"/api/fiches/practices/{PRACTICE}/managers", 404, {"detail": "unknown"})
    with portal_pages(services, professional()) as browser:
        refused = browser.post(
            f"/praktijken/{PRACTICE}/beheerders",
            data={"csrf_token": CSRF, "beheerder": "nobody@example.be"},
        )
    assert refused.status_code == 422
    assert 'id="fout-beheerder"' in refused.text
    assert 'value="nobody@example.be"' in refused.text


def test_without_rights_the_edit_link_leads_to_propose_rights_and_link_actions() -> None:
    services = FakeServices()
    published_practice(services)
    services.on("GET", f"/api/fiches/practices/{PRACTICE}/edit", 403, {"detail": "not a manager"})
    services.on("POST", f"/api/fiches/practices/{PRACTICE}/proposals", 201, {"request_id": "req-1"})
    services.on(
        "POST", f"/api/fiches/practices/{PRACTICE}/rights-requests", 201, {"request_id": "r2"}
    )
    services.on(
        "POST", f"/api/fiches/practices/{PRACTICE}/link-requests", 201, {"request_id": "r3"}
    )
    with portal_pages(services, professional()) as browser:
        edit = browser.get(f"/praktijken/{PRACTICE}/bewerken")
        assert edit.status_code == 303
        assert edit.headers["location"] == f"/praktijken/{PRACTICE}/voorstellen"
        page = browser.get(edit.headers["location"])
        for action in ("Wijziging voorstellen", "Beheerrechten aanvragen", "Aanbod koppelen"):
            assert f">{action}</button>" in page.text

        proposed = browser.post(
            f"/praktijken/{PRACTICE}/voorstellen",
            data={
                "csrf_token": CSRF,
                "naam-0": "Het Warmste Team",
                "telefoon-0": "+3292658111",
                "telefoon-1": "+32470123456",
                "telefoon-voorkeur": "1",
                "wijken": "Brugse Poort\nRabot",
            },
        )
        assert proposed.status_code == 303
        rights = browser.post(
            f"/praktijken/{PRACTICE}/beheerrechten-aanvragen",
            data={"csrf_token": CSRF, "motivatie": "Ik werk op het secretariaat."},
        )
        assert rights.status_code == 303
        linked = browser.post(
            f"/praktijken/{PRACTICE}/aanbod-koppelen", data={"csrf_token": CSRF, "aanbod": "nurse"}
        )
        assert linked.status_code == 303
        done = browser.get(linked.headers["location"])
        assert "Je vraag om je aanbod te koppelen is verstuurd" in done.text

    (proposal,) = services.made("POST", f"/api/fiches/practices/{PRACTICE}/proposals")
    # Only the changed field is proposed.
    assert proposal.json == {"changes": {"wijken": ["Brugse Poort", "Rabot"]}}
    (asked,) = services.made("POST", f"/api/fiches/practices/{PRACTICE}/rights-requests")
    assert asked.json == {"motivation": "Ik werk op het secretariaat."}
    (link,) = services.made("POST", f"/api/fiches/practices/{PRACTICE}/link-requests")
    assert link.json == {"professions": ["nurse"]}


def test_the_public_practice_page_shows_its_data_and_the_actions_to_logged_in_users() -> None:
    services = FakeServices()
    published_practice(services)
    with portal_pages(services) as anonymous:
        public = anonymous.get(f"/praktijken/{PRACTICE}")
    assert public.status_code == 200
    assert "Brugse Poort" in public.text
    assert "Wijziging voorstellen" not in public.text
    # Phone numbers as people read them, linked as phones dial them.
    assert '<a href="tel:+3292658111">09 265 81 11</a>' in public.text
    assert '<a href="tel:+32470123456">0470 12 34 56</a>' in public.text
    assert public.text.count("+3292658111") == public.text.count("+32470123456") == 1

    with portal_pages(services, professional()) as browser:
        page = browser.get(f"/praktijken/{PRACTICE}")
    for action in (
        "Bewerken",
        "Wijziging voorstellen",
        "Beheerrechten aanvragen",
        "Aanbod koppelen",
        "Verwijderen aanvragen",
    ):
        assert f">{action}</a>" in page.text


def test_a_form_without_the_sessions_csrf_token_changes_nothing() -> None:
    services = FakeServices()
    with portal_pages(services, professional()) as browser:
        forged = browser.post("/praktijken/nieuw", data={"csrf_token": "forged", "naam-0": "X"})
    assert forged.status_code == 400
    assert not services.calls


def test_the_practice_pages_ask_an_anonymous_visitor_to_log_in() -> None:
    with portal_pages(FakeServices()) as browser:
        page = browser.get("/praktijken/nieuw")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/aanmelden?")


def test_sent_invitations_show_their_state_in_the_pages_language() -> None:
    services = FakeServices()
    managed_practice(services)
    services.on(
        "GET",
        f"/api/invitations/practices/{PRACTICE}/invitations",
        body=[
            {"status": "accepted", "profession": "nurse", "expires_at": "2026-12-16T10:00:00Z"},
            {"status": "open", "profession": None, "expires_at": "2026-12-20T10:00:00Z"},
        ],
    )
    with portal_pages(services, professional()) as browser:
        dutch = browser.get(f"/praktijken/{PRACTICE}/bewerken").text
    with portal_pages(services, professional(), language="fr") as browser:
        french = browser.get(f"/praktijken/{PRACTICE}/bewerken").text
    assert "<li>aanvaard · verpleegkundige" in dutch and "<li>open ·" in dutch
    assert "<li>acceptée ·" in french
    assert "accepted" not in dutch


def test_a_providers_public_page_names_the_languages_they_speak() -> None:
    services = FakeServices()
    services.on(
        "GET",
        "/api/fiches/providers/fiche-sarah",
        body={
            "fiche_id": "fiche-sarah",
            "official_first_name": "Sarah",
            "official_last_name": "Peeters",
            "professions": [{"profession": "nurse"}],
            "languages": ["nl", "fr", "de", "tr"],
        },
    )
    services.on("GET", "/api/directory/search", body={"items": []})
    with portal_pages(services) as browser:
        page = browser.get("/zorgverleners/fiche-sarah")
    assert page.status_code == 200, page.text
    assert "<dd>Nederlands, Français, Deutsch, tr</dd>" in page.text


def test_a_manager_is_told_where_requests_wait_for_a_decision() -> None:
    services = FakeServices()
    services.on(
        "GET",
        "/api/fiches/me/managed-practices",
        body={
            "practices": [
                {
                    "practice_id": PRACTICE,
                    "name": "Het Warmste Team",
                    "published": True,
                    "unpublished_changes": False,
                    "open_requests": 2,
                },
                {
                    "practice_id": "quiet",
                    "name": "Praktijk Stil",
                    "published": True,
                    "unpublished_changes": False,
                    "open_requests": 0,
                },
            ]
        },
    )
    managed_practice(services)
    services.on("GET", f"/api/fiches/practices/{PRACTICE}/requests", body=[{"request_id": "r1"}])
    secretary = professional(name="Lotte Burger", professional_id=None, professions=[])
    with portal_pages(services, secretary) as browser:
        mine = browser.get("/mijn-fiches")
        edit = browser.get(f"/praktijken/{PRACTICE}/bewerken")
    assert mine.status_code == 200, mine.text
    assert mine.text.count("aanvragen wachten op je beslissing") == 1
    assert f'href="/praktijken/{PRACTICE}/aanvragen"><span class="status almost">2 aanvragen' in (
        mine.text
    )
    assert edit.status_code == 200, edit.text
    assert "Aanvragen (1)" in edit.text and "1 aanvraag wacht op je beslissing" in edit.text


def test_a_practice_name_not_found_exactly_suggests_the_practices_it_may_mean() -> None:
    services = FakeServices()
    services.on(
        "GET",
        "/api/fiches/me/map-status",
        body={
            "provider_fiche": {"fiche_id": "fiche-nele"},
            "practices": [],
            "to_create": [{"practice_name": "De Linde"}],
        },
    )
    services.on("GET", "/api/fiches/me/managed-practices", body={"practices": []})
    services.on(
        "GET",
        "/api/directory/search",
        body={
            "items": [
                {
                    "type": "practice",
                    "id": "linde",
                    "name": "Huisartsenpraktijk De Linde",
                    "addresses": [
                        {
                            "street": "Lindelaan",
                            "number": "4",
                            "postcode": "9000",
                            "municipality": "Gent",
                            "preferred": True,
                        }
                    ],
                }
            ]
        },
    )
    with portal_pages(services, professional()) as browser:
        page = browser.get("/mijn-fiches", params={"praktijk": "De Linde"})
    assert page.status_code == 200, page.text
    assert "Bedoel je een van deze praktijken?" in page.text
    assert (
        '<a href="/mijn-fiches?praktijk=Huisartsenpraktijk%20De%20Linde">'
        "Huisartsenpraktijk De Linde</a> (Lindelaan 4, 9000 Gent)"
    ) in page.text
    (searched,) = services.made("GET", "/api/directory/search")
    assert searched.params == {"q": "De Linde", "type": "practice", "limit": 5}


def test_the_edit_versions_offers_name_their_providers() -> None:
    services = FakeServices()
    offer = {"profession": "physician", "in_edit_version": True, "in_published_version": True}
    managed_practice(
        services,
        offers=[
            {**offer, "professional_id": "p1", "provider_name": "Marc Creemers"},
            {**offer, "professional_id": "p2", "provider_name": "Albert Vandewalle"},
        ],
    )
    with portal_pages(services, professional()) as browser:
        page = browser.get(f"/praktijken/{PRACTICE}/bewerken")
    assert "<li>arts · Marc Creemers</li>" in page.text
    assert "<li>arts · Albert Vandewalle</li>" in page.text
