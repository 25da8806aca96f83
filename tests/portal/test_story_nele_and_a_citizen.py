"""The guide's first story through the pages only, in a real browser.

Before it starts (through the APIs, as other people did it): a physician created the practice
fiche "Het Warmste Team" in 9000 Gent with her offer. Then Nele, a nurse, logs in as a
professional, gives her e-mail address, activates it from the development mailbox, finds
her provider fiche online and the practice BIJNA KLAAR in "Mijn fiches", and asks to link
her offer. A citizen searches "huisarts" in 9000 Gent and opens the practice ("huisarts"
finds physicians with a GP qualification only: the practice's physician is a GP).
Every page: a screenshot in tests/portal/artifacts/ and axe.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.portal.api_setup import activated_api_client, create_practice
from tests.portal.journeys import follow_activation_link, log_in, open_mail_to
from tests.portal.pages import check_page

NELE = "Katrien Willems"  # the demo register's nurse (and midwife) who speaks Dutch
GP = "professional-7"  # Albert Vandewalle, physician with a GP qualification (004)
WARMSTE_TEAM = {
    "names": [{"name": "Het Warmste Team", "preferred": True}],
    "addresses": [{"street": "Kouter", "number": "12", "postcode": "9000", "municipality": "Gent"}],
    "phone_numbers": [{"number": "09 265 81 11"}],
    "target_groups": ["gezinnen"],
}
SEARCH_DEADLINE_S = 60


def test_nele_gets_on_the_map_and_a_citizen_finds_a_gp_in_gent(page: Page, base: str) -> None:
    gp = activated_api_client(base, GP, "albert@warmsteteam.example.be")
    try:
        practice_id = create_practice(gp, WARMSTE_TEAM, ["physician"])
    finally:
        gp.close()

    # Nele's first login.
    page.goto(base + "/")
    check_page(page, "story-1-home")
    log_in(page, base, NELE)
    expect(page.get_by_role("heading", name="E-mailadres ingeven")).to_be_visible()
    check_page(page, "story-2-email")
    page.get_by_label("E-mailadres").fill("nele@warmsteteam.example.be")
    page.get_by_role("button", name="Activatielink versturen").click()
    expect(page.get_by_role("heading", name="Bekijk je mailbox")).to_be_visible()
    check_page(page, "story-3-check-mailbox")

    open_mail_to(page, base, "nele@warmsteteam.example.be")
    follow_activation_link(page)
    check_page(page, "story-4-activate")
    page.get_by_role("button", name="Activeren").click()
    expect(page.get_by_role("status")).to_have_text("Je gebruikersprofiel is klaar voor gebruik")
    check_page(page, "story-5-activated")

    # Mijn fiches: her provider fiche is online; no practice yet, so: create one.
    page.get_by_role("link", name="Naar Mijn fiches").click()
    expect(page.get_by_role("heading", name="Mijn fiches", exact=True)).to_be_visible()
    provider = page.get_by_role("region", name="Mijn zorgverlenerfiche")
    expect(provider).to_contain_text("ONLINE")
    practices = page.get_by_role("region", name="Mijn praktijken")
    expect(practices).to_contain_text("PRAKTIJKFICHE AANMAKEN")
    expect(practices.get_by_role("link", name="Praktijkfiche aanmaken")).to_be_visible()
    check_page(page, "story-6-my-fiches-create")

    # She works at Het Warmste Team: it exists, her offer is not linked: BIJNA KLAAR.
    page.get_by_label(re.compile("Naam van de praktijk")).fill("Het Warmste Team")
    page.get_by_role("button", name="Praktijk opzoeken").click()
    card = page.get_by_role("article", name="Het Warmste Team")
    expect(card).to_contain_text("BIJNA KLAAR")
    expect(card.get_by_role("checkbox", name="verpleegkundige")).to_be_checked()
    check_page(page, "story-7-my-fiches-almost-ready")
    card.get_by_role("checkbox", name="vroedvrouw").uncheck()
    card.get_by_role("button", name="Aanbod koppelen").click()
    expect(page.get_by_role("status")).to_contain_text("Je vraag om je aanbod te koppelen")
    check_page(page, "story-8-link-requested")

    # Her public provider fiche.
    page.get_by_role("link", name="Bekijk je publieke fiche").click()
    expect(page.get_by_role("heading", name=NELE)).to_be_visible()
    check_page(page, "story-9-provider-public")
    page.get_by_role("button", name=re.compile("Afmelden")).click()

    # A citizen (not logged in) searches a GP (huisarts) in 9000 Gent.
    page.goto(base + "/")
    page.get_by_label("Beroep").fill("huisarts")
    page.get_by_label("Postcode of gemeente").fill("9000 Gent")
    deadline = time.monotonic() + SEARCH_DEADLINE_S
    while True:  # the search projection follows the practice's publication
        page.get_by_role("button", name="Zoeken").click()
        results = page.get_by_role("list", name="Resultaten")
        if results.count() and results.get_by_role("link", name="Het Warmste Team").count():
            break
        assert time.monotonic() < deadline, "the practice never appeared in the search"
        page.wait_for_timeout(1000)
        page.goto(base + "/")
        page.get_by_label("Beroep").fill("huisarts")
        page.get_by_label("Postcode of gemeente").fill("9000 Gent")
    expect(results.get_by_role("link", name="Albert Vandewalle")).to_be_visible()
    check_page(page, "story-10-search-huisarts-gent")

    results.get_by_role("link", name="Het Warmste Team").click()
    expect(page).to_have_url(re.compile(f"/praktijken/{practice_id}$"))
    expect(page.get_by_role("region", name="arts")).to_contain_text("Albert Vandewalle")
    check_page(page, "story-11-practice-public")
