"""When a resource last changed, as FHIR and HSDS serve it: UTC, to the millisecond.

FHIR writes the zone as `Z` (an `instant`), HSDS as `+00:00`. Pages write it once per
resource, so the JSON form has a fast path: orjson writes a UTC datetime (asyncpg reads
every `timestamptz` as one) in a third of `isoformat`'s time, and its microseconds are cut
to milliseconds as `isoformat(timespec="milliseconds")` cuts them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

_WITH_MICROSECONDS = len(b'"2026-12-01T18:23:30.882430+00:00"')


def utc_milliseconds(moment: datetime, *, zulu: bool) -> str:
    """`moment` in UTC to the millisecond (a naive one is taken as UTC, as SQLite reads)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if zulu else text


def utc_milliseconds_json(moment: datetime, *, zulu: bool) -> bytes:
    """`utc_milliseconds` as a JSON string. A datetime without microseconds (orjson leaves
    them out) or in another zone takes the slow path."""
    if moment.tzinfo is UTC:
        text = orjson.dumps(moment)
        if len(text) == _WITH_MICROSECONDS:
            return text[:24] + (b'Z"' if zulu else b'+00:00"')
    return orjson.dumps(utc_milliseconds(moment, zulu=zulu))
