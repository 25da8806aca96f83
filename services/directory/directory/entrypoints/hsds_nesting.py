"""HSDS records read one at a time, nested as the HSDS 3.0 API reference serves them.

`/services/{id}` is "a fully nested service with all related data": its organization and
its services at locations, each with its whole location. `/organizations/{id}` is the
"fully nested organization with service array": its locations and its services.
`/service_at_locations/{id}` is "fully nested ... with all related data": its whole
service and its whole location (the schema it answers is `compiled/service_at_location`;
the reference's OpenAPI names `compiled/service.json` there, which a service at a
location cannot match: it has no `name` or `status`). The lists serve each record alone
(their schemas, `service_list` and `organization_list`, hold the one-to-one fields); a
record is stored alone too, so a read assembles its nesting from the stored records of
the same practice.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from directory.adapters.standard_queries import Found, ResourceQuery, by_ids, find
from directory.domain.resources import HSDS, without_nulls
from directory.entrypoints.served_times import utc_milliseconds

_OF_ONE_PRACTICE = 10_000
"""More records of one type than a practice has (its addresses, its offer blocks)."""


def _decoded(found: Found) -> dict[str, Any]:
    # Without nulls: a record stored before records were stored without them.
    record: dict[str, Any] = without_nulls(orjson.loads(found.content))
    return record


def served_record(type_: str, found: Found) -> dict[str, Any]:
    """A record as its list serves it: a service carries its last change."""
    record = _decoded(found)
    if type_ == "service":
        record["last_modified"] = utc_milliseconds(found.last_updated, zulu=False)
    return record


async def _of_organization(
    connection: AsyncConnection, type_: str, organization_id: str
) -> list[Found]:
    query = ResourceQuery(
        HSDS, type_, any_terms=((f"organization:{organization_id}",),), active=True
    )
    return await find(connection, query, limit=_OF_ONE_PRACTICE, offset=0)


async def nested_service(connection: AsyncConnection, service: dict[str, Any]) -> dict[str, Any]:
    """`service` (as served alone) with its organization and its services at locations,
    each with its location."""
    organization_id = service.get("organization_id")
    if not organization_id:
        return service
    organizations = await by_ids(connection, HSDS, "organization", [organization_id])
    at_locations = [
        record
        for record in map(
            _decoded, await _of_organization(connection, "service_at_location", organization_id)
        )
        if record.get("service_id") == service["id"]
    ]
    locations = {
        f.id: _decoded(f)
        for f in await by_ids(
            connection, HSDS, "location", [r["location_id"] for r in at_locations]
        )
        if f.active
    }
    nested = dict(service)
    if organizations and organizations[0].active:
        nested["organization"] = _decoded(organizations[0])
    nested["service_at_locations"] = [
        # Without its `service`: that is the record they are nested in.
        {k: v for k, v in at.items() if k != "service"} | {"location": locations[at["location_id"]]}
        for at in at_locations
        if at["location_id"] in locations
    ]
    return nested


async def nested_organization(
    connection: AsyncConnection, organization: dict[str, Any]
) -> dict[str, Any]:
    """`organization` with its locations and its services on the map (each service as
    its list serves it: `/services/{id}` nests it further)."""
    locations = await _of_organization(connection, "location", organization["id"])
    services = await _of_organization(connection, "service", organization["id"])
    return organization | {
        "locations": [_decoded(f) for f in locations],
        "services": [served_record("service", f) for f in services],
    }


async def nested_service_at_location(
    connection: AsyncConnection, at_location: dict[str, Any]
) -> dict[str, Any]:
    """`at_location` with its whole service (as its list serves it) and its whole
    location, in place of the few fields the list gives of each."""
    nested = dict(at_location)
    for type_, key, record_id in (
        ("service", "service", at_location["service_id"]),
        ("location", "location", at_location["location_id"]),
    ):
        found = [f for f in await by_ids(connection, HSDS, type_, [record_id]) if f.active]
        if found:
            nested[key] = served_record(type_, found[0])
    return nested
