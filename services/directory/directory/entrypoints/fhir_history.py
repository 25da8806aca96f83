"""The parameters of a FHIR history request (ITI-91, `/fhir/{type}/_history`).

`_since` is inclusive, as FHIR R4 defines it ("at or after"): a poller that asks again
from the `meta.lastUpdated` of the last entry it saw gets that entry again (same
`versionId`) and every other change stamped in the same millisecond, none skipped.

A history's pages are walked by key, not by offset: the `next` link carries
`_page_after=<lastUpdated to the microsecond>|<id>` of the page's last entry. A resource
that changes while a client walks the pages moves to the end of the history; with offsets,
every entry after it moved one place forward and the first of the next page was never
served. `_offset` is still read, for links handed out before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from directory.entrypoints.fhir_parameters import BadRequest, parse_instant

PAGE_SIZE = 100
"""Entries in a history page without `_count` (a search's is 20: a poller wants more)."""

PAGE_AFTER = "_page_after"


@dataclass(frozen=True)
class HistoryPaging:
    since: datetime | None = None
    count: int = PAGE_SIZE
    offset: int = 0
    after: tuple[datetime, str] | None = None
    """(lastUpdated, id) of the last entry of the page before: entries after it."""
    format: str | None = None
    """`_format` as given (checked by the endpoint: JSON is all it serves)."""


def page_after(last_updated: datetime, resource_id: str) -> str:
    """The `_page_after` value of a page whose last entry is this one."""
    moment = last_updated if last_updated.tzinfo else last_updated.replace(tzinfo=UTC)
    return f"{moment.astimezone(UTC).isoformat(timespec='microseconds')}|{resource_id}"


def _whole_number(name: str, value: str, least: int, most: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name}: {value!r} is not a whole number") from None
    if not least <= number <= most:
        raise BadRequest(f"{name}: between {least} and {most}, not {number}")
    return number


def _after(value: str) -> tuple[datetime, str]:
    moment, bar, resource_id = value.partition("|")
    if not bar or not resource_id:
        raise BadRequest(
            f"{PAGE_AFTER}: {value!r} is not a page of this history; follow the Bundle's "
            "next link as it is, or start again from _since"
        )
    return parse_instant(PAGE_AFTER, moment), resource_id


def history_paging(items: list[tuple[str, str]], page_max: int) -> HistoryPaging:
    """`_since`, `_count` and the page of a history request; BadRequest names what is
    wrong (an unknown or repeated parameter too: a misspelt `_since` must not widen the
    history to everything)."""
    given: dict[str, str] = {}
    for name, value in items:
        if name not in ("_since", "_count", "_offset", "_format", PAGE_AFTER):
            raise BadRequest(
                f"unknown parameter {name!r}; _history takes _since, _count and _format"
            )
        if name in given:
            raise BadRequest(f"{name}: given twice; give it once")
        given[name] = value
    return HistoryPaging(
        since=parse_instant("_since", given["_since"]) if "_since" in given else None,
        count=_whole_number("_count", given["_count"], 1, page_max)
        if "_count" in given
        else PAGE_SIZE,
        offset=_whole_number("_offset", given["_offset"], 0, 10**9) if "_offset" in given else 0,
        after=_after(given[PAGE_AFTER]) if PAGE_AFTER in given else None,
        format=given.get("_format"),
    )
