"""First login, activation from the mail and a later change of address, in a real browser,
for a professional whose login says French: every page after the login is in French."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.portal.journeys import follow_activation_link, log_in, open_mail_to
from tests.portal.pages import check_page


def test_first_login_activation_and_a_change_of_address_in_the_login_s_language(
    page: Page, base: str
) -> None:
    log_in(page, base, "Élise Gilson")
    expect(page).to_have_url(re.compile(r"/e-mailadres$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Indiquer votre adresse e-mail")).to_be_visible()
    check_page(page, "email-first-login-fr")

    # A refused address: the error next to the field, in French, and what was typed kept.
    page.get_by_label("Adresse e-mail").fill("elise at example")
    page.get_by_role("button", name="Envoyer le lien d'activation").click()
    field = page.get_by_label("Adresse e-mail")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("elise at example")
    expect(page.get_by_role("alert")).to_contain_text("Cette adresse e-mail n'est pas utilisable")
    check_page(page, "email-refused-fr")

    page.get_by_label("Adresse e-mail").fill("elise.gilson@example.be")
    page.get_by_role("button", name="Envoyer le lien d'activation").click()
    expect(page.get_by_role("heading", name="Consultez votre boîte mail")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("elise.gilson@example.be")
    check_page(page, "check-mailbox-fr")

    # The mail's link opens the portal's page (never JSON), in her language.
    open_mail_to(page, base, "elise.gilson@example.be")
    follow_activation_link(page)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    check_page(page, "activate-fr")
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("status")).to_have_text(
        "Votre profil d'utilisateur est prêt à l'emploi"
    )
    check_page(page, "activated-fr")

    # The same link again: a page that says what happened and what to do.
    page.go_back()
    page.reload()
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("alert")).to_contain_text("déjà été utilisé")
    check_page(page, "activation-used-fr")

    # Later: a new address, activated from its own mail; the old one counts until then.
    page.get_by_role("link", name="Mon profil").click()
    expect(page.get_by_text("elise.gilson@example.be")).to_be_visible()
    check_page(page, "profile-fr")
    page.get_by_role("link", name="Modifier l'adresse e-mail").click()
    page.get_by_label("Adresse e-mail").fill("elise@cabinet.example.be")
    page.get_by_role("button", name="Envoyer le lien d'activation").click()
    expect(page.get_by_role("status")).to_contain_text("elise@cabinet.example.be")
    open_mail_to(page, base, "elise@cabinet.example.be")
    follow_activation_link(page)
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("status")).to_have_text(
        "Votre profil d'utilisateur est prêt à l'emploi"
    )
    page.get_by_role("link", name="Mon profil").click()
    expect(page.get_by_text("elise@cabinet.example.be")).to_be_visible()

    # Logging out ends the session: a page for logged-in users asks to log in again.
    page.get_by_role("button", name=re.compile("Se déconnecter")).click()
    page.goto(base + "/mijn-profiel")
    expect(page).to_have_url(re.compile(r"/aanmelden\?terug="))
