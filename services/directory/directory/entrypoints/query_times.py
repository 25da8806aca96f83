"""A moment given in a query (FHIR `_since` and `_lastUpdated`, HSDS `modified_after`).

Both standards take a date or a date-time in ISO 8601; without a zone it is read as UTC,
and it is compared in UTC, as the database stores every change. The callers word the
refusal in their own standard's way (a FHIR OperationOutcome, an HSDS 422).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta


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


_DATE_ONLY = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_TIME_PART = re.compile(r"T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")


def utc_range(value: str) -> tuple[datetime, datetime]:
    """The moments `value` stands for, as FHIR R4 reads a date search value: a year, a
    month, a day, a minute or a second, to the precision written; [start, end) in UTC.
    ValueError and OverflowError as `utc_moment`."""
    date = _DATE_ONLY.fullmatch(value)
    if date is not None:
        year, month, day = int(date[1]), int(date[2] or 1), int(date[3] or 1)
        start = datetime(year, month, day, tzinfo=UTC)
        if date[3]:
            return start, _later(start, timedelta(days=1))
        if year == 9999 and (month == 12 or not date[2]):
            return start, datetime.max.replace(tzinfo=UTC)
        if date[2]:
            return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return start, datetime(year + 1, 1, 1, tzinfo=UTC)
    start = utc_moment(value)
    time = _TIME_PART.search(value)
    if time is None or not time[1]:
        return start, _later(start, timedelta(minutes=1))
    if not time[2]:
        return start, _later(start, timedelta(seconds=1))
    digits = min(len(time[2]) - 1, 6)
    return start, _later(start, timedelta(microseconds=10 ** (6 - digits)))


def _later(moment: datetime, by: timedelta) -> datetime:
    """`moment + by`, or the last moment there is (the end of the year 9999)."""
    try:
        return moment + by
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)
