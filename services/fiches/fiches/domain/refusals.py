"""Refusals of the fiches rules; the HTTP layer turns each into its status code.

Every message says what was refused, why, and what the caller can do instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class FicheError(Exception):
    """A refused write; `status` is the HTTP status it maps to, `code` the stable code
    clients see (servicekit.problems)."""

    status = 400
    code = "refused"
    #: More for the caller than the message (a code, choices, what to do); None: none.
    details: dict[str, Any] | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(FicheError):
    status = 404
    code = "not_found"


class Forbidden(FicheError):
    """The caller has no right on this fiche (deny by default)."""

    status = 403
    code = "forbidden"


class Conflict(FicheError):
    """The fiche's state does not allow this now (already decided, last manager, ...)."""

    status = 409
    code = "conflict"


class Invalid(FicheError):
    """Input that cannot be accepted, with the field it concerns."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, loc: Sequence[str | int] = ("body",)) -> None:
        super().__init__(message)
        self.loc = tuple(loc)
