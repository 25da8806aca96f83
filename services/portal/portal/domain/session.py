"""One browser's session as the pages and the use cases see it; stored by adapters/session_store."""

from __future__ import annotations

import secrets
from typing import Any


class WebSession:
    """One browser's session: created on first need, saved when changed."""

    def __init__(self, session_id: str | None, data: dict[str, Any] | None) -> None:
        self.id = session_id
        self.data: dict[str, Any] = data or {}
        self.changed = False
        self.ended = False

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any) -> None:
        if self.data.get(key) != value:
            self.data[key] = value
            self.changed = True

    @property
    def csrf(self) -> str:
        """This session's CSRF token (creates the session when a form needs one)."""
        if not self.data.get("csrf"):
            self.set("csrf", secrets.token_urlsafe(32))
        return str(self.data["csrf"])

    def renew(self) -> None:
        """A new id and CSRF token, keeping the language: at login and logout (no fixation)."""
        self.data = {"lang": self.data["lang"]} if self.data.get("lang") else {}
        self.id = None
        self.changed = True

    @property
    def user(self) -> dict[str, Any] | None:
        user = self.data.get("user")
        return user if isinstance(user, dict) else None


class LoginRequired(Exception):
    """The page is for logged-in users."""
