"""Preparing a story's world through the APIs (what other people did before the story
starts), never what the story's own person does: that goes through the pages."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')
MAIL_DEADLINE_S = 90


def activated_api_client(
    base: str, person: str, email: str, login_as: str = "professional"
) -> httpx.Client:
    """A client logged in as a demo person (by key), activated, with a Bearer token set."""
    client = httpx.Client(base_url=base, timeout=30)
    start = client.get("/api/identity/login", params={"as": login_as})
    assert start.status_code == 303, start.text
    page = client.get(start.headers["location"])
    assert page.status_code == 200, page.text
    form = dict(_HIDDEN.findall(page.text))
    chosen = client.post("/dev/idp/authorize", data={**form, "person": person})
    assert chosen.status_code == 303, chosen.text
    assert client.get(chosen.headers["location"]).status_code == 303
    assert client.put("/api/identity/me/email", json={"email": email}).status_code == 202
    token = _activation_token(client, email)
    assert client.post("/api/identity/activate", data={"token": token}).status_code == 200
    issued = client.post("/api/identity/token")
    assert issued.status_code == 200, issued.text
    client.headers["Authorization"] = f"Bearer {issued.json()['access_token']}"
    return client


def _activation_token(client: httpx.Client, email: str) -> str:
    deadline = time.monotonic() + MAIL_DEADLINE_S
    while time.monotonic() < deadline:
        for message in client.get("/api/notifications/dev/mailbox/messages").json():
            if message.get("to") == email:
                shown = client.get(f"/api/notifications/dev/mailbox/messages/{message['id']}")
                for link in shown.json()["links"]:
                    if "/activeren?" in link:
                        return parse_qs(urlsplit(link).query)["token"][0]
        time.sleep(1)
    raise AssertionError(f"no activation mail to {email}")


def create_practice(client: httpx.Client, body: dict[str, Any], offers: list[str]) -> str:
    created = client.post(
        "/api/fiches/practices", params={"publish": "true"}, json={**body, "offers": offers}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["practice_id"])
