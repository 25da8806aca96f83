"""Stopping at a practice: select the offer, delete, confirm, then save and publish."""

from __future__ import annotations

from tests.portal.pages_with_fake_services import CSRF, FakeServices, portal_pages, professional

FICHE = "fiche-marc"
PAGE = f"/zorgverleners/{FICHE}/bewerken/praktijken"


def marc_in_two_practices(services: FakeServices) -> None:
    services.on(
        "GET",
        f"/api/fiches/providers/{FICHE}/edit",
        body={
            "fiche_id": FICHE,
            "published": True,
            "offers": [
                {"practice_id": "solo", "profession": "physician", "in_edit_version": True},
                {"practice_id": "team", "profession": "physician", "in_edit_version": True},
            ],
        },
    )
    for practice_id, name in (("solo", "Praktijk Creemers"), ("team", "Het Warmste Team")):
        services.on(
            "GET",
            f"/api/fiches/practices/{practice_id}",
            body={"practice_id": practice_id, "name": name, "data": {}, "offer_blocks": []},
        )
    services.on("DELETE", f"/api/fiches/providers/{FICHE}/offers/.*", 204)


def test_nothing_is_removed_until_confirmed_and_saved_then_it_is_published() -> None:
    services = FakeServices()
    marc_in_two_practices(services)
    marc = professional(name="Marc Creemers", professions=["physician"])
    with portal_pages(services, marc) as browser:
        page = browser.get(PAGE)
        assert page.status_code == 200
        assert "Praktijk Creemers" in page.text and "Het Warmste Team" in page.text
        assert ">Opslaan en publiceren</button>" not in page.text  # nothing to save yet

        question = browser.get(f"{PAGE}/team/physician")
        assert question.status_code == 200
        assert "Het Warmste Team" in question.text and ">Bevestigen</button>" in question.text
        assert not services.made("DELETE", ".*")

        confirmed = browser.post(f"{PAGE}/team/physician", data={"csrf_token": CSRF})
        assert confirmed.status_code == 303
        waiting = browser.get(PAGE)
        assert "Wordt verwijderd" in waiting.text
        assert ">Opslaan en publiceren</button>" in waiting.text
        assert not services.made("DELETE", ".*"), "a confirmed deletion waits for the save"

        saved = browser.post(PAGE, data={"csrf_token": CSRF, "actie": "publiceren"})
        assert saved.status_code == 303
        assert saved.headers["location"].endswith("gelukt=gepubliceerd")

        again = browser.post(PAGE, data={"csrf_token": CSRF, "actie": "publiceren"})
        assert again.status_code == 303

    (removal,) = services.made("DELETE", ".*")
    assert removal.path == f"/api/fiches/providers/{FICHE}/offers/team/physician"
    assert removal.params == {"confirm": "true", "publish": "true"}


def test_cancelling_forgets_the_confirmed_deletion() -> None:
    services = FakeServices()
    marc_in_two_practices(services)
    with portal_pages(services, professional(professions=["physician"])) as browser:
        browser.post(f"{PAGE}/solo/physician", data={"csrf_token": CSRF})
        browser.post(PAGE, data={"csrf_token": CSRF, "actie": "annuleren"})
        browser.post(PAGE, data={"csrf_token": CSRF, "actie": "opslaan"})
        page = browser.get(PAGE)
    assert not services.made("DELETE", ".*")
    assert "Wordt verwijderd" not in page.text
