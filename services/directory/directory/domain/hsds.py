"""The directory as Open Referral HSDS 3.0 records.

A practice is an organization with a location per address; each offer block (a
practice's profession with at least one published provider) is a service, at each of the
practice's locations (service_at_location). Professions are the taxonomy terms. Providers
are not HSDS records: HSDS describes services, not the people who deliver them (the FHIR
view has them). Records of what left the map are kept inactive and never served.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from directory.domain.fhir import Offer, location_id, service_id
from directory.domain.professions import profession
from directory.domain.resources import HSDS, Resource, derived_id, name_terms, place_terms

TAXONOMY_ID = derived_id("taxonomy", "profession")
TAXONOMY_URI = "https://socialekaart.be/fhir/CodeSystem/profession"

_DAYS = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}


def taxonomy_term_id(code: str) -> str:
    return derived_id("taxonomy-term", code)


def taxonomy_term(code: str) -> dict[str, Any]:
    found = profession(code)
    return {
        "id": taxonomy_term_id(code),
        "code": code,
        "name": found.nl,
        "description": f"{found.nl} / {found.fr} / {found.en}",
        "taxonomy": "Sociale Kaart professions",
        "taxonomy_id": TAXONOMY_ID,
        "language": "nl",
    }


def _address(location: str, position: int, address: dict[str, Any]) -> dict[str, Any]:
    line = f"{address['street']} {address['number']}"
    return {
        "id": derived_id("address", location, str(position)),
        "location_id": location,
        "address_1": line,
        "address_2": f"bus {address['box']}" if address.get("box") else None,
        "city": address["municipality"],
        "state_province": address["municipality"],
        "postal_code": address["postcode"],
        "country": "BE",
        "address_type": "physical",
    }


def _phones(owner_field: str, owner: str, facts: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": derived_id("phone", owner, p["number"]), owner_field: owner, "number": p["number"]}
        for p in facts.get("phone_numbers") or []
    ]


def _schedules(location: str, facts: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": derived_id("schedule", location, str(n)),
            "location_id": location,
            "freq": "WEEKLY",
            "byday": _DAYS[h["day"]],
            "opens_at": h["opens"],
            "closes_at": h["closes"],
            "description": h.get("note"),
        }
        for n, h in enumerate(facts.get("opening_hours") or [])
        if h.get("day") in _DAYS
    ]


def practice_records(
    practice: dict[str, Any],
    places: dict[int, tuple[float, float]],
    offers: Sequence[Offer],
) -> list[Resource]:
    """A practice fiche's organization, locations, services and services at locations."""
    practice_id = practice["practice_id"]
    facts = practice["facts"]
    published = bool(practice["published"])
    name = practice["name"]
    addresses = list(facts.get("addresses") or [])
    names = [n["name"] for n in facts.get("names") or []]
    found = name_terms(name, *names)
    websites = [w["url"] for w in facts.get("websites") or []]
    municipalities = sorted({a["municipality"] for a in addresses})
    organization: dict[str, Any] = {
        "id": practice_id,
        "name": name,
        "alternate_name": next((n for n in names if n != name), None),
        "description": f"{name}, practice on the Sociale Kaart"
        + (f" ({', '.join(municipalities)})" if municipalities else ""),
        "website": websites[0] if websites else None,
        "phones": _phones("organization_id", practice_id, facts),
    }
    records = [
        Resource(
            HSDS,
            "organization",
            practice_id,
            practice_id,
            published,
            organization,
            frozenset(found | place_terms(addresses)),
        )
    ]
    locations = []
    for position, address in enumerate(addresses):
        lid = location_id(practice_id, position)
        point = places.get(position)
        location = {
            "id": lid,
            "location_type": "physical",
            "organization_id": practice_id,
            "name": name,
            "latitude": point[0] if point else None,
            "longitude": point[1] if point else None,
            "addresses": [_address(lid, position, address)],
            "phones": _phones("location_id", lid, facts),
            "schedules": _schedules(lid, facts),
        }
        locations.append((lid, location, address, point))
        records.append(
            Resource(
                HSDS,
                "location",
                lid,
                practice_id,
                published,
                location,
                frozenset(found | place_terms([address]) | {f"organization:{practice_id}"}),
                point[0] if point else None,
                point[1] if point else None,
            )
        )
    blocks: dict[str, list[Offer]] = {}
    for offer in offers:
        blocks.setdefault(offer.profession, []).append(offer)
    for code, members in sorted(blocks.items()):
        sid = service_id(practice_id, code)
        shown = [m for m in members if m.provider is not None and m.provider["published"]]
        active = published and bool(shown)
        languages = sorted({lang for m in shown for lang in m.provider["languages"]})  # type: ignore[index]
        term = taxonomy_term(code)
        service = {
            "id": sid,
            "organization_id": practice_id,
            "name": f"{name}: {profession(code).nl}",
            "description": f"{profession(code).nl} ({profession(code).fr}) at {name}",
            "status": "active" if active else "inactive",
            "url": websites[0] if websites else None,
            "phones": _phones("service_id", sid, facts),
            "languages": [
                {"id": derived_id("language", sid, lang), "service_id": sid, "code": lang}
                for lang in languages
            ],
            "attributes": [
                {
                    "id": derived_id("attribute", sid, code),
                    "link_id": sid,
                    "link_type": "service",
                    "link_entity": "service",
                    "taxonomy_term_id": term["id"],
                    "taxonomy_term": term,
                }
            ],
        }
        where = place_terms(addresses) | {f"organization:{practice_id}"}
        taxonomy = {f"taxonomy:{term['id']}", f"taxonomy:{code}"}
        first = next((point for _, _, _, point in locations if point), None)
        records.append(
            Resource(
                HSDS,
                "service",
                sid,
                practice_id,
                active,
                service,
                frozenset(found | name_terms(profession(code).nl) | where | taxonomy),
                first[0] if first else None,
                first[1] if first else None,
            )
        )
        for lid, location, address, point in locations:
            at_id = derived_id("service-at-location", sid, lid)
            records.append(
                Resource(
                    HSDS,
                    "service_at_location",
                    at_id,
                    practice_id,
                    active,
                    {
                        "id": at_id,
                        "service_id": sid,
                        "location_id": lid,
                        "service": {k: service[k] for k in ("id", "name", "status")},
                        "location": {
                            k: location[k] for k in ("id", "location_type", "name", "addresses")
                        },
                    },
                    frozenset(
                        found
                        | name_terms(profession(code).nl)
                        | place_terms([address])
                        | taxonomy
                        | {f"organization:{practice_id}"}
                    ),
                    point[0] if point else None,
                    point[1] if point else None,
                )
            )
    return records
