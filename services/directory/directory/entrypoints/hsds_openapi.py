"""The HSDS API's own OpenAPI description, cut from the app's.

`GET /hsds/` points agencies at `/hsds/openapi.json`: an HSDS client generates its code from
it, so it describes the HSDS endpoints alone, with the schemas they use, not the whole
application the directory runs in (its search and FHIR; in monolithic mode every service).
"""

from __future__ import annotations

from typing import Any

PREFIX = "/hsds/"
_REF = "#/components/schemas/"


def hsds_description(whole: dict[str, Any]) -> dict[str, Any]:
    """`whole` (the app's OpenAPI) with the paths under /hsds/ and the schemas they
    reference, directly or through other schemas."""
    paths = {path: item for path, item in whole.get("paths", {}).items() if path.startswith(PREFIX)}
    schemas = whole.get("components", {}).get("schemas", {})
    wanted: set[str] = set()
    pending = list(_references(paths))
    while pending:
        name = pending.pop()
        if name in wanted or name not in schemas:
            continue
        wanted.add(name)
        pending.extend(_references(schemas[name]))
    described = {key: value for key, value in whole.items() if key not in ("paths", "components")}
    described["info"] = {**whole.get("info", {}), "title": "Sociale Kaart: HSDS 3.0"}
    described["paths"] = paths
    if wanted:
        described["components"] = {"schemas": {name: schemas[name] for name in sorted(wanted)}}
    return described


def _references(value: Any) -> list[str]:
    """The schema names `value` refers to (`$ref`s anywhere inside it)."""
    found: list[str] = []
    if isinstance(value, dict):
        reference = value.get("$ref")
        if isinstance(reference, str) and reference.startswith(_REF):
            found.append(reference.removeprefix(_REF))
        for item in value.values():
            found += _references(item)
    elif isinstance(value, list):
        for item in value:
            found += _references(item)
    return found
