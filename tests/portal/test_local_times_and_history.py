"""Moments read as a clock in Belgium reads them, and a provider's history in words."""

from __future__ import annotations

from portal.domain.local_times import local_date, local_time
from tests.portal.pages_with_fake_services import FakeServices, portal_pages, professional


def test_moments_are_shown_in_brussels_time_and_dates_as_the_local_day() -> None:
    assert local_time("2026-12-02T17:21:05Z") == "2026-12-02 18:21"  # winter: UTC+1
    assert local_time("2026-07-01T06:00:00+00:00") == "2026-07-01 08:00"  # summer: UTC+2
    assert local_date("2026-12-16T23:30:00Z") == "2026-12-17"
    assert local_date(None) == local_time("") == ""
    assert local_date("not a moment") == "not a moment"


def test_a_providers_history_says_what_changed_in_words_and_in_belgian_time() -> None:
    services = FakeServices()
    services.on(
        "GET", "/api/fiches/me/map-status", body={"provider_fiche": {"fiche_id": "fiche-nele"}}
    )
    services.on(
        "GET",
        "/api/fiches/providers/fiche-nele/history",
        body=[
            {
                "version": 2,
                "at": "2026-12-02T17:21:05Z",
                "action": "publish",
                "changed_fields": ["phone_numbers", "preferred_name"],
            }
        ],
    )
    with portal_pages(services, professional()) as browser:
        page = browser.get("/mijn-fiches/zorgverlener/geschiedenis")
    assert page.status_code == 200, page.text
    assert "<td>2026-12-02 18:21</td><td>gepubliceerd</td><td>Telefoonnummers, Naam</td>" in (
        page.text
    )
    assert "phone_numbers" not in page.text
