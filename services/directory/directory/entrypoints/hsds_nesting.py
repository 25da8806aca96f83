"""HSDS records read one at a time, nested as the HSDS 3.0 API reference serves them.

`/services/{id}` is "a fully nested service with all related data": its organization and
its services at locations, each with its whole location. `/organizations/{id}` is the
organization with its locations. The lists serve each record alone (their schemas,
`service_list` and `organization_list`, hold the one-to-one fields); a record is stored
alone too, so a read assembles its nesting from the stored records of the same practice.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from directory.adapters.standard_queries import Found, ResourceQuery, by_ids, find
from directory.domain.resources import HSDS, without_nulls

_OF_ONE_PRACTICE = 10_000
"""More records of one type than a practice has (its addresses, its offer blocks)."""


def _decoded(found: Found) -> dict[str, Any]:
    # Without nulls: a record stored before records were stored without them.
    record: dict[str, Any] = without_nulls(orjson.loads(found.content))
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
    """`organization` with its locations on the map."""
    locations = await _of_organization(connection, "location", organization["id"])
    return organization | {"locations": [_decoded(f) for f in locations]}
