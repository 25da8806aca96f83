"""Steps the browser stories share, taken only through pages (as a person would)."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

#: Mail goes broker → notifications → local SMTP server: seconds, more on a loaded box.
MAIL_DEADLINE_S = 90


def log_in(page: Page, base: str, person: str, *, as_citizen: bool = False) -> None:
    """From the home page through the development identity provider, picking `person`."""
    page.goto(base + "/")
    name = "Aanmelden als burger" if as_citizen else "Aanmelden als professioneel zorgverlener"
    page.get_by_role("link", name=name).first.click()
    page.get_by_role("button", name=person).click()
    # Back on the portal (identity handed the session over).
    expect(page).not_to_have_url(re.compile(r"/dev/idp|/api/identity"))


def open_mail_to(page: Page, base: str, address: str, nth: int = 1) -> None:
    """The development mailbox's page of the `nth` mail to `address` (oldest first)."""
    deadline = time.monotonic() + MAIL_DEADLINE_S
    while True:
        page.goto(base + "/api/notifications/dev/mailbox")
        rows = page.get_by_role("row").filter(has_text=address)
        if rows.count() >= nth:
            # The mailbox lists the newest first.
            rows.nth(rows.count() - nth).get_by_role("link").click()
            return
        assert time.monotonic() < deadline, f"no mail number {nth} to {address} arrived"
        page.wait_for_timeout(1000)


def follow_activation_link(page: Page) -> None:
    """On an opened mail: its portal activation link."""
    page.locator("a[href*='/activeren?token=']").first.click()
    expect(page).to_have_url(re.compile(r"/activeren\?token="))


def first_login(page: Page, base: str, person: str, email: str) -> None:
    """Log in for the first time, give `email` and activate it from the mailbox (Dutch)."""
    log_in(page, base, person)
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_role("button", name="Activatielink versturen").click()
    expect(page.get_by_role("heading", name="Bekijk je mailbox")).to_be_visible()
    open_mail_to(page, base, email)
    follow_activation_link(page)
    page.get_by_role("button", name="Activeren").click()
    expect(page.get_by_role("status")).to_have_text("Je gebruikersprofiel is klaar voor gebruik")
