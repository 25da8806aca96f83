"""FHIR answers assembled from the stored JSON text, without decoding it.

Resources are stored as the JSON text they are served as (built and encoded once, by the
projection); a served resource is that text with its `meta` (version, time of the last
change) added before the closing brace, and a Bundle is those texts joined. Decoding and
re-encoding every resource of a page was most of a search's CPU.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from directory.adapters.standard_queries import Found
from directory.entrypoints.served_times import utc_milliseconds, utc_milliseconds_json


def instant(moment: datetime) -> str:
    return utc_milliseconds(moment, zulu=True)


def resource_of(found: Found) -> dict[str, Any]:
    """The stored resource with its meta, decoded (what `resource_text` encodes)."""
    resource: dict[str, Any] = orjson.loads(found.content)
    resource["meta"] = {"versionId": str(found.version), "lastUpdated": instant(found.last_updated)}
    return resource


def resource_text(found: Found) -> bytes:
    """The stored resource with its meta, as JSON; the stored text is not decoded."""
    content = found.content.encode()
    # A stored resource is an object with at least its resourceType; never a `meta`.
    if content.endswith(b"}") and content != b"{}":
        return b'%s,"meta":{"versionId":"%d","lastUpdated":%s}}' % (
            content[:-1],
            found.version,
            utc_milliseconds_json(found.last_updated, zulu=True),
        )
    return orjson.dumps(resource_of(found))


_MODES = {mode: orjson.dumps(mode) for mode in ("match", "include", "outcome")}


def entry_text(base: str, type_: str, found: Found, mode: str) -> bytes:
    """A searchset entry: fullUrl, resource, search mode."""
    return b'{"fullUrl":%s,"resource":%s,"search":{"mode":%s}}' % (
        orjson.dumps(f"{base}/{type_}/{found.id}"),
        resource_text(found),
        _MODES.get(mode) or orjson.dumps(mode),
    )


def history_entry_text(base: str, type_: str, found: Found) -> bytes:
    """A history entry; a depublished resource stays, inactive: never a silent delete."""
    return b"".join(
        (
            b'{"fullUrl":',
            orjson.dumps(f"{base}/{type_}/{found.id}"),
            b',"resource":',
            resource_text(found),
            b',"request":',
            orjson.dumps({"method": "PUT", "url": f"{type_}/{found.id}"}),
            b',"response":',
            orjson.dumps(
                {
                    "status": "201 Created" if found.version == 1 else "200 OK",
                    "lastModified": instant(found.last_updated),
                }
            ),
            b"}",
        )
    )


def bundle_text(
    kind: str, links: list[dict[str, str]], entries: list[bytes], total: int | None = None
) -> bytes:
    """A Bundle of `kind` (searchset, history) with these links and encoded entries, and
    how many match when `total` is given (`_total`, `_summary=count`)."""
    return b"".join(
        (
            b'{"resourceType":"Bundle","type":',
            orjson.dumps(kind),
            b"" if total is None else b',"total":%d' % total,
            b',"link":',
            orjson.dumps(links),
            b',"entry":[',
            b",".join(entries),
            b"]}",
        )
    )


def referenced(found: Found, element: str) -> list[str]:
    """The ids a stored resource's `element` refers to (for _include)."""
    value = orjson.loads(found.content).get(element)
    references = value if isinstance(value, list) else [value] if value else []
    return [r["reference"].rpartition("/")[2] for r in references if "reference" in r]
