"""The portal's cookie (HttpOnly, SameSite=Lax, Secure outside development) and a CSRF
token in every form that posts."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from portal.config import PortalSettings
from portal.entrypoints.app import build_component
from servicekit.settings import Environment, PlatformSettings

TEMPLATES = Path(__file__).resolve().parents[2] / "services/portal/portal/templates"


def _cookie_after_choosing_a_language(platform: PlatformSettings, redis_url: str) -> str:
    portal = build_component(platform, None, PortalSettings(redis_url=redis_url))
    browser = TestClient(portal.app, base_url="https://portal.example")
    answer = browser.get("/taal/fr", params={"terug": "/zoeken"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/zoeken"
    return answer.headers["set-cookie"]


def test_the_session_cookie_is_http_only_lax_and_secure_outside_development() -> None:
    production = PlatformSettings(environment=Environment.PRODUCTION)
    cookie = _cookie_after_choosing_a_language(production, "redis://127.0.0.1:6379/0")
    assert cookie.startswith("skaart_portal=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie

    development = PlatformSettings(environment=Environment.DEVELOPMENT)
    cookie = _cookie_after_choosing_a_language(development, "memory://")
    assert "HttpOnly" in cookie and "Secure" not in cookie


def test_a_language_switch_never_sends_the_browser_to_another_site() -> None:
    portal = build_component(PlatformSettings(), None, PortalSettings(redis_url="memory://"))
    browser = TestClient(portal.app)
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        answer = browser.get("/taal/en", params={"terug": target}, follow_redirects=False)
        assert answer.headers["location"] == "/", target


def test_every_form_that_posts_carries_the_csrf_token() -> None:
    forms = 0
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S):
            forms += 1
            body = match.group(1)
            assert "m.csrf()" in body or 'name="csrf_token"' in body, template.name
    assert forms >= 5
