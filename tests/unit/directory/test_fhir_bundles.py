"""A served FHIR resource is its stored text with `meta` spliced in, and a Bundle's `next`
link is the request's URL with its `_offset` replaced: both are written without decoding,
so they are held here to what decoding and Starlette would have produced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from starlette.requests import Request

from directory.adapters.standard_queries import Found
from directory.entrypoints.fhir_bundles import entry_text, instant, resource_text
from directory.entrypoints.http_fhir import _next_link, _url

STORED = '{"resourceType":"Practitioner","id":"p-1","active":true,"name":[{"family":"Peeters"}]}'


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 1, 18, 23, 30, 882430, tzinfo=UTC),  # as asyncpg reads timestamptz
        datetime(2026, 12, 1, 18, 23, 30, 999999, tzinfo=UTC),  # cut, never rounded up
        datetime(2026, 12, 1, 18, 23, 30, tzinfo=UTC),  # no microseconds: orjson omits them
        datetime(2026, 12, 1, 18, 23, 30, 1500, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 12, 1, 18, 23, 30, 250000),  # naive (SQLite): taken as UTC
        datetime(1, 1, 1, 0, 0, 0, 1000, tzinfo=UTC),
    ],
)
def test_a_resource_is_served_as_its_decoded_form_with_meta_would_be(moment: datetime) -> None:
    found = Found("p-1", 7, moment, True, STORED)
    served = orjson.loads(resource_text(found))
    expected = {**orjson.loads(STORED), "meta": {"versionId": "7", "lastUpdated": instant(moment)}}
    assert served == expected
    u = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    assert served["meta"]["lastUpdated"] == (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
        f".{u.microsecond // 1000:03d}Z"
    )


def test_an_entry_names_its_full_url_resource_and_search_mode() -> None:
    found = Found("p-1", 1, datetime(2026, 12, 1, tzinfo=UTC), True, STORED)
    entry = orjson.loads(entry_text("https://map.example/fhir", "Practitioner", found, "include"))
    assert entry["fullUrl"] == "https://map.example/fhir/Practitioner/p-1"
    assert entry["search"] == {"mode": "include"}
    assert entry["resource"]["meta"]["lastUpdated"] == "2026-12-01T00:00:00.000Z"


def _request(query: bytes) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "https",
            "server": ("map.example", 443),
            "path": "/fhir/PractitionerRole",
            "root_path": "",
            "query_string": query,
            "headers": [(b"host", b"map.example")],
        }
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"near=51.05%7C3.72%7C5%7Ckm", "near=51.05%7C3.72%7C5%7Ckm&_offset=20"),
        (b"_offset=20&_count=20&name=de+smet", "_count=20&name=de+smet&_offset=40"),
        (b"name=a&%5Foffset=20&_offset=20&_count=20", "name=a&_count=20&_offset=40"),
        (b"name=a&_offset", "name=a&_offset=40"),
    ],
)
def test_the_next_link_replaces_the_offset_and_keeps_every_other_parameter(
    query: bytes, expected: str
) -> None:
    links: list[dict[str, str]] = []
    offset = 40 if b"_offset" in query else 20
    # As the search builds it: the request's own URL, then its next page.
    _next_link(_url(_request(query), ""), links, "_offset", offset)
    assert links == [
        {"relation": "next", "url": f"https://map.example/fhir/PractitionerRole?{expected}"}
    ]
