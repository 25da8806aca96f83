"""The provider fiche's edit version in a real browser: the authentic fields read-only with
"Fout in de authentieke bron?", "Opslaan" versus "Opslaan en publiceren", a refused value
next to its field with what was typed kept, and the history."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.portal.journeys import first_login
from tests.portal.pages import check_page


def test_a_provider_edits_saves_publishes_and_reports_a_source_error(page: Page, base: str) -> None:
    first_login(page, base, "Thomas Vandenberghe", "thomas@example.be")
    page.get_by_role("link", name="Naar Mijn fiches").click()
    page.get_by_role("link", name="Zorgverlenerfiche bewerken").click()
    expect(
        page.get_by_role("heading", name="Bewerkversie van je zorgverlenerfiche")
    ).to_be_visible()
    source = page.get_by_role("region", name="Uit de authentieke bron")
    expect(source).to_contain_text("Thomas Vandenberghe")
    expect(source).to_contain_text("kinesitherapeut")
    expect(source.get_by_role("textbox")).to_have_count(0)  # read-only (the report box is closed)
    check_page(page, "provider-edit")

    # A refused phone number: next to its field, and everything typed stays.
    page.get_by_label("Naam waaronder je bekend bent").fill("Tom Vandenberghe")
    page.locator("#veld-telefoon").fill("12")
    page.get_by_role("button", name="Opslaan en publiceren").click()
    phone = page.locator("#veld-telefoon")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_value("12")
    expect(page.get_by_label("Naam waaronder je bekend bent")).to_have_value("Tom Vandenberghe")
    expect(page.get_by_role("alert")).to_contain_text("Dit is geen geldig Belgisch telefoonnummer")
    check_page(page, "provider-edit-refused")

    # Opslaan: saved in the edit version, not yet public.
    page.locator("#veld-telefoon").fill("09 265 81 11")
    page.get_by_role("button", name="Opslaan", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("nog niet gepubliceerd")
    page.get_by_role("link", name="Bekijk je publieke fiche").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thomas Vandenberghe")
    page.go_back()

    # Opslaan en publiceren: public.
    page.get_by_role("button", name="Opslaan en publiceren").click()
    expect(page.get_by_role("status")).to_contain_text("bewaard en gepubliceerd")
    page.get_by_role("link", name="Bekijk je publieke fiche").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tom Vandenberghe")
    # Shown as people read it, linked as phones dial it.
    expect(page.get_by_role("link", name="09 265 81 11")).to_have_attribute(
        "href", "tel:+3292658111"
    )
    check_page(page, "provider-public-after-publish")
    page.go_back()

    # An error in the authentic source is reported, not edited.
    page.get_by_text("Fout in de authentieke bron?").click()
    page.get_by_label("Wat klopt er niet?").fill("Mijn diploma kinesitherapie ontbreekt.")
    page.get_by_role("button", name="Fout melden").click()
    expect(page.get_by_role("status")).to_contain_text("Je melding is verstuurd")

    page.get_by_role("link", name="Geschiedenis").click()
    expect(page).to_have_url(re.compile(r"/geschiedenis$"))
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(3)  # the header, the save, the publication
    check_page(page, "provider-history")
