"""The pages for everybody, in a real browser: home, language switch, search, public fiches."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.portal.pages import check_page


def test_home_offers_both_logins_and_the_search_in_three_languages(page: Page, base: str) -> None:
    page.goto(base + "/")
    expect(
        page.get_by_role("link", name="Aanmelden als professioneel zorgverlener")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Aanmelden als burger")).to_be_visible()
    expect(page.get_by_role("search")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("link", name="desocialekaart@vlaanderen.be")).to_be_visible()
    check_page(page, "home-nl")

    page.get_by_role("link", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("link", name="Se connecter en tant que citoyen")).to_be_visible()
    check_page(page, "home-fr")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("link", name="Log in as a citizen")).to_be_visible()
    page.get_by_role("link", name="Nederlands").click()
    expect(page.get_by_role("link", name="Aanmelden als burger")).to_be_visible()


def test_the_skip_link_and_focus_work_with_the_keyboard(page: Page, base: str) -> None:
    page.goto(base + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Naar de inhoud")
    expect(skip).to_be_focused()
    outline = skip.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline != "none", "focus is visible"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#inhoud$"))


def test_a_citizen_searches_a_profession_by_its_dutch_name_and_opens_a_provider(
    page: Page, base: str
) -> None:
    page.goto(base + "/")
    page.get_by_label("Beroep").fill("huisarts")
    page.get_by_role("button", name="Zoeken").click()
    expect(page).to_have_url(re.compile(r"/zoeken\?"))
    results = page.get_by_role("list", name="Resultaten").get_by_role("listitem")
    expect(results.first).to_be_visible()
    expect(results.first).to_contain_text("arts")
    check_page(page, "search-huisarts")

    results.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/zorgverleners/"))
    expect(
        page.get_by_role("heading", name="Waar biedt deze zorgverlener zorg aan?")
    ).to_be_visible()
    check_page(page, "provider-public")


def test_a_citizen_searches_around_a_postcode_nearest_first(page: Page, base: str) -> None:
    results = page.get_by_role("list", name="Resultaten").get_by_role("listitem")
    # The demo practices are published while the platform starts: ask until they are in.
    deadline = time.monotonic() + 60
    while True:
        page.goto(base + "/")
        page.get_by_label("Postcode of gemeente").fill("9000")
        page.get_by_role("button", name="Zoeken").click()
        expect(page.get_by_role("heading", name="Resultaten")).to_be_visible()
        if results.count() or time.monotonic() > deadline:
            break
        expect(page.get_by_text("Niets gevonden binnen 10 km van 9000.")).to_be_visible()
        time.sleep(1)
    expect(results.first).to_be_visible()
    distances = [
        float(text.removeprefix("op ").removesuffix(" km").replace(",", "."))
        for text in page.locator(".result .distance").all_inner_texts()
    ]
    assert distances, "every hit says how far it is"
    assert len(distances) == results.count()
    assert distances == sorted(distances) and distances[-1] <= 10
    check_page(page, "search-near-postcode")

    page.get_by_label("Postcode of gemeente").fill("Atlantis")
    page.get_by_role("button", name="Zoeken").click()
    field = page.get_by_label("Postcode of gemeente")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Deze plaats kennen we niet.").first).to_be_visible()


def test_a_keyboard_search_keeps_the_focus_and_says_what_it_found(page: Page, base: str) -> None:
    page.goto(base + "/zoeken")
    page.get_by_label("Beroep").fill("huisarts")
    page.get_by_role("button", name="Zoeken").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/zoeken\?.*beroep=huisarts"))
    results = page.get_by_role("list", name="Resultaten").get_by_role("listitem")
    expect(results.first).to_be_visible()
    # htmx swapped the form and the results: the focus is back on the button, the status
    # line (outside the swapped block) says what was found, and Tab goes to the results.
    expect(page.get_by_role("button", name="Zoeken")).to_be_focused()
    expect(page.get_by_role("status")).to_contain_text("resultaten op deze pagina")
    page.keyboard.press("Tab")
    focused_href = page.evaluate("document.activeElement.getAttribute('href') || ''")
    assert focused_href.startswith(("/zorgverleners/", "/praktijken/")), focused_href


def test_an_unknown_profession_is_shown_next_to_its_field_and_what_was_typed_stays(
    page: Page, base: str
) -> None:
    page.goto(base + "/zoeken")
    page.get_by_label("Naam", exact=True).fill("Peeters")
    page.get_by_label("Beroep").fill("bakker")
    page.get_by_role("button", name="Zoeken").click()
    field = page.get_by_label("Beroep")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("bakker")
    expect(page.get_by_label("Naam", exact=True)).to_have_value("Peeters")
    expect(page.get_by_role("alert")).to_contain_text("Dit beroep kennen we niet")
    check_page(page, "search-error")


def test_a_form_without_the_session_csrf_token_is_refused_with_a_page(base: str) -> None:
    answer = httpx.post(base + "/activeren", data={"token": "x"})
    assert answer.status_code == 400
    assert "Dit formulier is verlopen" in answer.text
    assert answer.headers["content-type"].startswith("text/html")


def test_an_unknown_fiche_gives_a_page_with_what_to_do(page: Page, base: str) -> None:
    page.goto(base + "/zorgverleners/no-such-fiche")
    expect(page.get_by_role("heading", name="Deze pagina bestaat niet (meer)")).to_be_visible()
    check_page(page, "not-found")


@pytest.mark.parametrize(
    ("method", "path", "status", "media_type", "says"),
    [
        (
            "GET",
            "/hsds/servics",
            404,
            "application/problem+json",
            "no GET endpoint at /hsds/servics",
        ),
        (
            "GET",
            "/api/directory/nothing",
            404,
            "application/problem+json",
            "at /api/directory/nothing",
        ),
        (
            "POST",
            "/hsds/services",
            405,
            "application/problem+json",
            "does not take POST; it takes GET",
        ),
        ("GET", "/fhir/Practitioner/x/y", 404, "application/fhir+json", "no FHIR endpoint at"),
        ("POST", "/fhir/Practitioner", 405, "application/fhir+json", "read-only"),
    ],
)
def test_an_unknown_api_path_is_answered_by_the_api_not_with_the_portals_page(
    base: str, method: str, path: str, status: int, media_type: str, says: str
) -> None:
    # The portal serves every other path at `/`; an agency's typo below /hsds got its
    # Dutch HTML page.
    answer = httpx.request(method, base + path)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(media_type)
    assert says in answer.text


def test_an_unknown_page_is_still_the_portals_page(base: str) -> None:
    answer = httpx.get(base + "/geen-pagina")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Deze pagina bestaat niet (meer)" in answer.text


def test_a_refused_professional_login_explains_why_and_offers_the_citizen_login(
    page: Page, base: str
) -> None:
    page.goto(base + "/aanmelden")
    page.get_by_role("link", name="Aanmelden als professioneel zorgverlener").click()
    page.get_by_role("button", name="Lotte Burger").click()  # not in the register
    expect(page.get_by_role("heading", name="Aanmelden lukte niet")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("register van gezondheidszorgbeoefenaars")
    expect(page.get_by_role("link", name="Aanmelden als burger")).to_be_visible()
    check_page(page, "login-refused")
