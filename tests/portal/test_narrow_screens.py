"""On a phone (390 px wide), the portal's wide tables scroll in their own box: the page
itself never runs off the screen's right edge."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

CSS = Path(__file__).resolve().parents[2] / "services/portal/portal/static/portal.css"
WIDE_ROW = "".join(f"<td>Huisartsenpraktijk Vandenberghe-{n} (9000 Gent)</td>" for n in range(6))


@pytest.mark.parametrize("table_class", ["list", "history"])
def test_a_wide_table_scrolls_within_its_box_on_a_phone(browser: Browser, table_class: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800})
    try:
        page.set_content(
            f"<!doctype html><html><head><style>{CSS.read_text()}</style></head><body>"
            f'<main class="wrap"><table class="{table_class}"><tr>{WIDE_ROW}</tr></table>'
            "</main></body></html>"
        )
        page_width = page.evaluate("document.documentElement.scrollWidth")
        table = page.locator("table")
        table_width = table.evaluate("element => element.scrollWidth")
        box_width = table.evaluate("element => element.clientWidth")
        assert page_width <= 390, f"the page is {page_width} px wide"
        assert table_width > box_width, "the table's content is wider than its box: it scrolls"
    finally:
        page.close()
