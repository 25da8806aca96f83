"""A resource as a standard (FHIR, HSDS) shows it, with the terms it is found by."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from directory.domain.text import normalized, words

FHIR = "fhir"
HSDS = "hsds"

# Ids derived from the fiches' ids, stable across rebuilds (a UUID, as HSDS asks).
_NAMESPACE = uuid.UUID("6f1c6c3e-0d55-4c36-9f0e-2f3b7f1e6a10")
_NAMESPACE_BYTES = _NAMESPACE.bytes


def derived_id(*parts: str) -> str:
    """A stable UUID for a resource that has no fiche id of its own (a role, a service):
    `str(uuid.uuid5(_NAMESPACE, "/".join(parts)))`, spelled out.

    A catch-up derives a few ids for every resource it builds, and going through
    `uuid.UUID` (an int, its checks, then formatting it again) was a sixth of building a
    practice's resources. The text is the same (tests/unit/directory/test_text_and_ids.py):
    the first 16 bytes of SHA-1 over the namespace and the name, with the version (5) and
    the RFC 4122 variant bits set."""
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + "/".join(parts).encode(), usedforsecurity=False).digest()
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


@dataclass(frozen=True)
class Resource:
    """One resource of one standard, as stored and served."""

    standard: str
    type: str
    id: str
    owner: str
    active: bool
    content: dict[str, Any]
    terms: frozenset[str] = field(default_factory=frozenset)
    latitude: float | None = None
    longitude: float | None = None


def name_terms(*texts: str | None) -> set[str]:
    return {f"n:{word}" for text in texts for word in words(text)}


def place_terms(addresses: Iterable[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for address in addresses:
        found.add(f"pc:{address['postcode']}")
        if normalized(address.get("municipality")):
            found.add(f"city:{normalized(address['municipality'])}")
    return found


def without_nulls(value: Any) -> Any:
    """HSDS leaves an unknown field out rather than null (its schemas type them strictly)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def stored_text(standard: str, content: dict[str, Any]) -> str:
    """A resource's content as stored: the JSON text it is served as (HSDS without nulls),
    so that an answer is assembled from stored texts without decoding them."""
    return orjson.dumps(without_nulls(content) if standard == HSDS else content).decode()
