"""Patterns that say, in words, what a matching value is.

pydantic refuses a value that does not match a field's `pattern` with "String should match
pattern '^[1-9][0-9]{3}$'", which only a programmer can read. A pattern declared through
`described()` is remembered with a sentence saying what a valid value is, and the problem
handler (`servicekit.problems`) answers with that sentence instead:
"postcode must be a Belgian postcode: 4 digits, 1000 to 9999 (9000)".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_VALID: dict[str, str] = {}


def described(pattern: str, valid: str) -> str:
    """`pattern`, remembered with `valid`: what a matching value is, written to follow
    "<field> must be" ("a time of day as HH:MM (08:30)")."""
    known = _VALID.setdefault(pattern, valid)
    if known != valid:
        raise ValueError(f"the pattern {pattern!r} is described twice, differently")
    return pattern


def what_matches(pattern: str) -> str | None:
    """The words `described()` gave `pattern`, or None."""
    return _VALID.get(pattern)


def pattern_refusal(error: Mapping[str, Any]) -> str | None:
    """For one of pydantic's errors (`ValidationError.errors()`): "<field> must be <what
    matches>" when a described pattern refused the value, else None."""
    if error.get("type") != "string_pattern_mismatch":
        return None
    valid = what_matches(str((error.get("ctx") or {}).get("pattern", "")))
    names = [part for part in error.get("loc", ()) if isinstance(part, str)]
    if valid is None or not names:
        return None
    return f"{names[-1]} must be {valid}"
