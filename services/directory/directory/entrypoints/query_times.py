"""A moment given in a query (FHIR `_since` and `_lastUpdated`, HSDS `modified_after`).

Both standards take a date or a date-time in ISO 8601; without a zone it is read as UTC,
and it is compared in UTC, as the database stores every change. The callers word the
refusal in their own standard's way (a FHIR OperationOutcome, an HSDS 422).
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_moment(value: str) -> datetime:
    """`value` as a moment in UTC. ValueError: not a date or date-time; OverflowError: no
    moment in UTC within the years 1 to 9999 (0001-01-01T00:00+14:00)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def plus_in_url_hint(value: str) -> str:
    """What to do when a time's `+01:00` reached the server as ` 01:00`: in a URL's query
    an unescaped `+` is a space."""
    if " " not in value.strip():
        return ""
    return (
        "; a + in a URL's query is read as a space: write a time zone as %2B01:00, "
        "or the time in UTC with Z"
    )
