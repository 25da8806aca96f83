"""Practice staff log in as citizens: "Mijn fiches" lists the practices they manage."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.portal.api_setup import activated_api_client, create_practice
from tests.portal.journeys import log_in
from tests.portal.pages import check_page


def test_a_secretary_sees_the_practice_she_manages(page: Page, base: str) -> None:
    # Before the story: she made the practice fiche of "Praktijk De Linde" (no offer: she
    # is no professional), so she manages it.
    secretary = activated_api_client(base, "citizen", "lotte@delinde.example.be", "citizen")
    try:
        practice_id = create_practice(
            secretary, {"names": [{"name": "Praktijk De Linde", "preferred": True}]}, []
        )
    finally:
        secretary.close()

    log_in(page, base, "Lotte Burger", as_citizen=True)
    expect(page).to_have_url(re.compile(r"/mijn-fiches$"))  # active: straight to her fiches
    managed = page.get_by_role("region", name="Praktijken die ik beheer")
    expect(managed).to_contain_text("Praktijk De Linde")
    expect(managed).to_contain_text("ONLINE")
    expect(page.get_by_role("region", name="Mijn zorgverlenerfiche")).to_have_count(0)
    check_page(page, "my-fiches-citizen")
    managed.get_by_role("link", name=re.compile("Praktijkfiche bekijken")).click()
    expect(page).to_have_url(re.compile(f"/praktijken/{practice_id}$"))
