"""The guide's practice stories through the pages only, in a real browser (Playwright with
Debian's chromium against a `skaart up` monolith); axe and a screenshot on every page.

What other people did before a story starts is prepared through the APIs
(tests/portal/api_setup.py); what the story's own people do goes through the pages.
Each story uses its own demo people and practice names, so the stories do not depend on
one another or on the order they run in.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.portal.api_setup import activated_api_client, create_practice
from tests.portal.journeys import log_in, open_mail_to
from tests.portal.pages import check_page
from tests.portal.platform_process import RunningMonolith

#: The broker carries a change from one service to the next: seconds, more on a busy box.
PROPAGATION_DEADLINE_S = 90


def log_out(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^Afmelden")).click()


def until(check: object, what: str, page: Page | None = None) -> None:
    """Retry `check()` (reloading the page) until it is true."""
    deadline = time.monotonic() + PROPAGATION_DEADLINE_S
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(1)
        if page is not None:
            page.reload()


def practice_body(name: str, postcode: str, municipality: str) -> dict[str, object]:
    return {
        "names": [{"name": name, "preferred": True}],
        "addresses": [
            {"street": "Markt", "number": "1", "postcode": postcode, "municipality": municipality}
        ],
        "phone_numbers": [{"number": "050 44 81 11"}],
    }


def test_a_link_request_approved_by_the_manager_puts_the_offer_on_the_practice(
    page: Page, base: str
) -> None:
    """Nele's story: she asks to link her offer; the practice's manager approves it in the
    browser; her offer is on the public practice page."""
    # Demo people no other browser test uses (the tests share one monolith).
    nele, nele_name = "professional-1", "Frederik Van Hoof"  # midwife
    manager_name = "Filip Wuyts"
    manager = activated_api_client(base, "professional-3", "filip@debrug.example.be")
    asker = activated_api_client(base, nele, "frederik@debrug.example.be")
    try:
        practice_id = create_practice(
            manager, practice_body("Praktijk De Brug", "8000", "Brugge"), ["physiotherapist"]
        )
    finally:
        manager.close()
        asker.close()

    log_in(page, base, nele_name)
    page.goto(f"{base}/praktijken/{practice_id}")
    expect(page.get_by_role("heading", name="Praktijk De Brug")).to_be_visible()
    # Its phone number as people read it, linked as phones dial it.
    phone = page.get_by_role("link", name="050 44 81 11")
    expect(phone).to_have_attribute("href", "tel:+3250448111")
    check_page(page, "practices-a1-practice-before")
    page.get_by_role("link", name="Aanbod koppelen").click()
    koppelen = page.get_by_role("region", name="Aanbod koppelen")
    expect(koppelen.get_by_role("checkbox", name="vroedvrouw")).to_be_checked()
    check_page(page, "practices-a2-ask-link")
    koppelen.get_by_role("button", name="Aanbod koppelen").click()
    expect(page.get_by_role("status")).to_contain_text("Je vraag om je aanbod te koppelen")
    page.get_by_role("link", name="Mijn aanvragen").click()
    expect(page.get_by_role("table")).to_contain_text("Praktijk De Brug")
    check_page(page, "practices-a3-my-requests")
    log_out(page)

    # The manager decides in the browser.
    log_in(page, base, manager_name)
    page.goto(f"{base}/praktijken/{practice_id}")
    page.get_by_role("link", name="Bewerken").click()
    expect(page.get_by_role("heading", name=re.compile("Praktijk De Brug"))).to_be_visible()
    check_page(page, "practices-a4-edit-version")
    # The edit version says a request waits, and its link counts them.
    expect(page.get_by_text("1 aanvraag wacht op je beslissing")).to_be_visible()
    page.get_by_role("link", name="Aanvragen (1) wachten op je beslissing").click()
    request = page.get_by_role("region", name=re.compile("Aanbod koppelen"))
    expect(request).to_contain_text(nele_name)
    expect(request).to_contain_text("vroedvrouw")
    check_page(page, "practices-a5-requests-to-decide")
    request.get_by_role("button", name=re.compile("^Goedkeuren")).click()
    expect(page.get_by_role("status")).to_contain_text("Je beslissing is bewaard")
    log_out(page)

    # Her offer is public at once (an approved link needs no further publishing).
    page.goto(f"{base}/praktijken/{practice_id}")
    block = page.get_by_role("region", name="vroedvrouw")
    until(lambda: block.count() > 0, "the approved link on the public page", page)
    expect(block).to_contain_text(nele_name)
    check_page(page, "practices-a6-practice-after")


def test_a_secretary_manages_a_practice_and_a_colleague_accepts_the_mailed_invitation(
    page: Page, base: str
) -> None:
    """A secretary logs in as a citizen, creates and publishes a practice fiche, invites a
    colleague, who accepts from the link in the mail (development mailbox)."""
    colleague_name, colleague_address = "Pieter-Jan Cools", "pieterjan@zuid.example.be"
    activated_api_client(base, "professional-5", "pj.cools@example.be").close()
    secretary = "secretariaat@zuid.example.be"
    # Before the story she logged in once and activated her address (the first login
    # through the pages is test_story_nele_and_a_citizen's).
    activated_api_client(base, "citizen", secretary, "citizen").close()

    log_in(page, base, "Lotte Burger", as_citizen=True)
    expect(page).to_have_url(re.compile(r"/mijn-fiches$"))
    page.goto(base + "/mijn-fiches")
    page.get_by_role("link", name="Praktijkfiche aanmaken").first.click()
    expect(page.get_by_role("heading", name="Praktijkfiche aanmaken")).to_be_visible()
    page.get_by_label("Naam 1", exact=True).fill("Groepspraktijk Zuid")
    page.get_by_label("Straat (Adres 1)").fill("Zuidlaan")
    page.get_by_label("Nummer (Adres 1)").fill("5")
    page.get_by_label("Postcode (Adres 1)").fill("2000")
    page.get_by_label("Gemeente (Adres 1)").fill("Antwerpen")
    page.get_by_label("Telefoonnummer 1", exact=True).fill("03 231 45 67")
    page.get_by_label("E-mailadres 1", exact=True).fill("onthaal@zuid.example.be")
    page.get_by_label("Doelgroep").fill("kinderen met spraakproblemen")
    page.get_by_role("checkbox", name="kinderen").check()
    page.get_by_label("Wijken").fill("Zuid\nHet Eilandje")
    check_page(page, "practices-c1-create")
    page.get_by_role("button", name="Opslaan en publiceren").click()
    expect(page.get_by_role("status")).to_contain_text("De praktijkfiche is aangemaakt")
    practice_url = page.url.split("/bewerken")[0]
    check_page(page, "practices-c2-edit-version")

    # A second phone number, preferred: the refused form keeps what was typed.
    page.get_by_label("Telefoonnummer 2", exact=True).fill("12")
    page.get_by_role("button", name="Opslaan", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Belgisch telefoonnummer")
    expect(page.get_by_label("Telefoonnummer 2", exact=True)).to_have_value("12")
    check_page(page, "practices-c3-refused-phone")
    page.get_by_label("Telefoonnummer 2", exact=True).fill("0470 12 34 56")
    page.get_by_label("Voorkeur: Telefoonnummer 2").check()
    page.get_by_role("button", name="Opslaan en publiceren").click()
    expect(page.get_by_role("status")).to_contain_text("Opgeslagen en gepubliceerd")

    # Invite the colleague; invitations learns of the new practice through the broker.
    def invited() -> bool:
        page.get_by_label("E-mailadressen (één per regel)").fill(colleague_address)
        page.get_by_role("button", name="Uitnodigen", exact=True).click()
        return (
            page.get_by_role("status").filter(has_text="uitnodigingen zijn verstuurd").count() > 0
        )

    until(invited, "the invitation was accepted by invitations")
    check_page(page, "practices-c4-invited")
    log_out(page)

    # The colleague follows the mailed link, logs in, and confirms.
    open_mail_to(page, base, colleague_address)
    page.locator("a[href*='/uitnodiging?token=']").first.click()
    expect(page.get_by_role("heading", name="Uitnodiging", exact=True)).to_be_visible()
    expect(page.get_by_text("Groepspraktijk Zuid").first).to_be_visible()
    check_page(page, "practices-c5-invitation")
    page.get_by_role("link", name="Aanmelden als professioneel zorgverlener").click()
    page.get_by_role("button", name=colleague_name).click()
    expect(page.get_by_role("heading", name="Uitnodiging", exact=True)).to_be_visible()
    expect(page.get_by_role("checkbox", name="logopedist")).to_be_checked()
    check_page(page, "practices-c6-invitation-logged-in")
    page.get_by_role("button", name="Koppeling bevestigen").click()
    expect(page.get_by_role("heading", name="Klaar!")).to_be_visible()
    check_page(page, "practices-c7-accepted")

    page.goto(practice_url)
    block = page.get_by_role("region", name="logopedist")
    until(lambda: block.count() > 0, "the accepted invitation on the public page", page)
    expect(block).to_contain_text(colleague_name)
    # Shown as people read it, dialled in the international form.
    phone = page.get_by_role("link", name="0470 12 34 56")
    expect(phone).to_be_visible()
    expect(phone).to_have_attribute("href", "tel:+32470123456")
    check_page(page, "practices-c8-practice-public")


def _import_follow_up_snapshot(monolith: RunningMonolith) -> None:
    """The registry's next snapshot (a practice ban for demo person 2), imported through
    the platform's own import path, as an operator would."""
    folder = monolith.log_path.parent
    snapshot = folder / "data" / "demo" / "snapshot-2-status-changes.jsonl"
    assert snapshot.exists(), f"skaart up did not write {snapshot}"
    environment = {**os.environ, "SKAART_ENVIRONMENT": "development"}
    environment["SKAART_DATA_DIR"] = str(folder / "data")
    skaart = Path(sys.executable).parent / "skaart"
    done = subprocess.run(
        [str(skaart), "registry", "import", str(snapshot)],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_marc_stops_at_one_practice_then_loses_his_visa_and_only_his_fiche_goes(
    page: Page, base: str, monolith: RunningMonolith
) -> None:
    """Marc's story, with the demo person the follow-up snapshot bans (Greet Van Looy)."""
    marc_key, marc_name = "professional-2", "Greet Van Looy"
    marc = activated_api_client(base, marc_key, "greet@example.be")
    try:
        solo = create_practice(
            marc, practice_body("Solopraktijk Van Looy", "3000", "Leuven"), ["nurse"]
        )
        team = create_practice(
            marc, practice_body("Wijkteam Kessel-Lo", "3010", "Leuven"), ["nurse"]
        )
        fiche_id = marc.get("/api/fiches/me/map-status").json()["provider_fiche"]["fiche_id"]
    finally:
        marc.close()

    log_in(page, base, marc_name)
    page.goto(f"{base}/zorgverleners/{fiche_id}")
    page.get_by_role("link", name="Aanbod per praktijk").click()
    expect(page.get_by_role("table")).to_contain_text("Wijkteam Kessel-Lo")
    check_page(page, "practices-b1-offer-per-practice")
    page.get_by_role("link", name=re.compile("^Verwijderen.*Wijkteam Kessel-Lo")).click()
    expect(page.get_by_role("heading", name="Bevestigen")).to_be_visible()
    check_page(page, "practices-b2-confirm")
    page.get_by_role("button", name="Bevestigen").click()
    expect(page.get_by_role("table")).to_contain_text("Wordt verwijderd")
    check_page(page, "practices-b3-to-delete")
    page.get_by_role("button", name="Opslaan en publiceren").click()
    expect(page.get_by_role("status")).to_contain_text("Opgeslagen en gepubliceerd")
    expect(page.get_by_role("table")).not_to_contain_text("Wijkteam Kessel-Lo")
    log_out(page)

    page.goto(f"{base}/praktijken/{team}")
    expect(page.get_by_role("region", name="verpleegkundige")).to_have_count(0)
    page.goto(f"{base}/praktijken/{solo}")
    expect(page.get_by_role("region", name="verpleegkundige")).to_contain_text(marc_name)

    # The register bans her from practising: her provider fiche goes, both practices stay.
    _import_follow_up_snapshot(monolith)

    def provider_gone() -> bool:
        return httpx.get(f"{base}/api/fiches/providers/{fiche_id}", timeout=10).status_code == 404

    until(provider_gone, "the provider fiche depublished after the import")
    page.goto(f"{base}/zorgverleners/{fiche_id}")
    expect(
        page.get_by_role("heading", name=re.compile("niet gevonden|bestaat niet", re.I))
    ).to_be_visible()
    check_page(page, "practices-b4-provider-gone")
    for practice_id, name in ((solo, "Solopraktijk Van Looy"), (team, "Wijkteam Kessel-Lo")):
        page.goto(f"{base}/praktijken/{practice_id}")
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        expect(page.get_by_text(marc_name)).to_have_count(0)
    check_page(page, "practices-b5-practice-stays")


def _grant_team(monolith: RunningMonolith, user_id: str) -> None:
    """What an operator does for a new member of the editorial team."""
    folder = monolith.log_path.parent
    environment = {
        **os.environ,
        "SKAART_ENVIRONMENT": "development",
        "SKAART_DATA_DIR": str(folder / "data"),
    }
    skaart = Path(sys.executable).parent / "skaart"
    done = subprocess.run(
        [str(skaart), "identity", "grant-team", user_id],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_editorial_team_works_its_queue(
    page: Page, base: str, monolith: RunningMonolith
) -> None:
    """Requests of other people wait in the queue; the team approves one, refuses another
    with a reason, and restores an earlier version of a practice fiche."""
    owner = activated_api_client(base, "professional-1", "frederik@oost.example.be")
    asker = activated_api_client(base, "professional-5", "pj@oost.example.be")
    member = activated_api_client(base, "professional-8", "margot@team.example.be")
    try:
        practice_id = create_practice(
            owner, practice_body("Vroedvrouwenpraktijk Oost", "9000", "Gent"), ["midwife"]
        )
        changed = {**practice_body("Vroedvrouwenpraktijk Oost", "9000", "Gent")}
        changed["wijken"] = ["Dampoort"]
        saved = owner.put(f"/api/fiches/practices/{practice_id}/edit", json=changed)
        assert saved.status_code == 200, saved.text
        asked = asker.post(
            f"/api/fiches/practices/{practice_id}/rights-requests",
            json={"motivation": "Ik neem de praktijk over."},
        )
        assert asked.status_code == 201, asked.text
        removal = asker.post(
            "/api/fiches/removal-requests",
            json={"fiche_type": "practice", "fiche_id": practice_id, "reason": "Bestaat niet."},
        )
        assert removal.status_code == 201, removal.text
        proposal = asker.post(
            f"/api/fiches/practices/{practice_id}/proposals",
            json={"changes": {"phone_numbers": [{"number": "050 44 81 12"}], "wijken": ["Muide"]}},
        )
        assert proposal.status_code == 201, proposal.text
        _grant_team(monolith, member.get("/api/identity/me").json()["user_id"])
    finally:
        owner.close()
        asker.close()
        member.close()

    log_in(page, base, "Margot Verstraete")
    page.get_by_role("link", name="Werklijst").click()
    expect(page.get_by_role("heading", name=re.compile("Werklijst"))).to_be_visible()
    page.get_by_label("Soort aanvraag").select_option("rights")
    page.get_by_role("button", name="Tonen").click()
    rights = page.get_by_role("region", name=re.compile("Beheerrechten: Vroedvrouwenpraktijk Oost"))
    expect(rights).to_contain_text("Ik neem de praktijk over.")
    check_page(page, "team-1-queue-rights")
    rights.get_by_role("button", name=re.compile("^Goedkeuren")).click()
    expect(page.get_by_role("status")).to_contain_text("Je beslissing is bewaard")

    page.get_by_label("Soort aanvraag").select_option("removal")
    page.get_by_role("button", name="Tonen").click()
    removal_card = page.get_by_role(
        "region", name=re.compile("Verwijderen: Vroedvrouwenpraktijk Oost")
    )
    removal_card.get_by_role("button", name=re.compile("^Weigeren")).click()
    expect(page.get_by_role("alert")).to_contain_text("Geef een reden")
    check_page(page, "team-2-refusal-needs-reason")
    removal_card = page.get_by_role(
        "region", name=re.compile("Verwijderen: Vroedvrouwenpraktijk Oost")
    )
    removal_card.get_by_role("textbox").fill("De praktijk is actief; zie haar website.")
    removal_card.get_by_role("button", name=re.compile("^Weigeren")).click()
    expect(page.get_by_role("status")).to_contain_text("Je beslissing is bewaard")

    page.goto(f"{base}/team/werklijst?status=all&soort=removal")
    card = page.get_by_role("region", name=re.compile("Verwijderen: Vroedvrouwenpraktijk Oost"))
    expect(card).to_contain_text("Geweigerd")
    card.get_by_role("link", name=re.compile("Geschiedenis van de fiche")).click()
    expect(page.get_by_role("heading", name=re.compile("Geschiedenis"))).to_be_visible()
    check_page(page, "team-3-history")
    page.get_by_role("button", name=re.compile("^Terugzetten.*versie 1$")).click()
    expect(page.get_by_role("status")).to_contain_text("De versie staat terug in de bewerkversie")
    check_page(page, "team-4-restored")

    # A proposed change: each field as the edit version holds it now, beside the proposal.
    page.goto(f"{base}/team/werklijst?soort=proposal")
    proposed = page.get_by_role(
        "region", name=re.compile("Wijziging voorstellen: Vroedvrouwenpraktijk Oost")
    )
    phones = proposed.get_by_role("row", name=re.compile("Telefoonnummers"))
    expect(phones).to_contain_text("050 44 81 11")
    expect(phones).to_contain_text("050 44 81 12")
    expect(proposed.get_by_role("row", name=re.compile("Wijken"))).to_contain_text("(leeg)")
    check_page(page, "team-5-queue-proposal")
    proposed.get_by_role("button", name=re.compile("^Goedkeuren")).click()
    expect(page.get_by_role("status")).to_contain_text("Je beslissing is bewaard")
