"""What every browser test does on every page: a screenshot kept as an artifact, and axe."""

from __future__ import annotations

import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BLOCKING_IMPACTS = {"serious", "critical"}

_axe = Axe()


def check_page(page: Page, name: str) -> Path:
    """Save a full-page screenshot as `artifacts/<name>.png` and fail on a serious or
    critical axe-core violation (WCAG 2.1 AA rules)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^a-z0-9-]+", "-", name.lower()) + ".png")
    page.screenshot(path=str(path), full_page=True)
    results = _axe.run(
        page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}}
    )
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING_IMPACTS
    ]
    assert not blocking, f"axe on {name} ({page.url}):\n" + "\n".join(blocking)
    return path
