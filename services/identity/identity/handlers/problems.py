"""What identity's use cases share: the refusal they raise, the first-login steps.

Every refusal is a `Problem` that says what failed and what to do next; the HTTP layer
turns it into a 4xx. Nothing here logs or returns a national register number, and an
e-mail address is only ever shown to its own user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: What a refused login tells the person to do.
START_AGAIN = "Start again at /api/identity/login."


class UserStatus:
    """Where a user stands in the first-login steps."""

    NEEDS_EMAIL = "needs_email"
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"


@dataclass
class Problem(Exception):
    """A refusal with its HTTP status, a stable code, and what the person can do."""

    status: int
    code: str
    message: str
    what_to_do: str = ""
    field_name: str | None = None
    field_location: str = "body"
    retry_after: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The `return_to` of the login this refusal ends (never part of the answer's body).
    return_to: str | None = None

    def detail(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.what_to_do:
            body["what_to_do"] = self.what_to_do
        if self.field_name:
            body["field"] = self.field_name
        return {**body, **self.extra}


def rowcount(result: Any) -> int:
    """Rows an UPDATE changed (a CursorResult's, which the Result type does not show)."""
    return int(result.rowcount)


def utc_now() -> datetime:
    return datetime.now(UTC)
