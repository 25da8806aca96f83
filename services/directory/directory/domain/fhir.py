"""The directory as FHIR R4 resources, the way IHE mCSD maps a provider directory.

A provider is a Practitioner; a practice an Organization with a Location per address; an
offer block (a practice's profession) a HealthcareService; a provider's offer in a block a
PractitionerRole linking the four. Only what the public topics carry is used: no national
register number, no registry person id, no e-mail address, no edit version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from directory.domain.documents import preferred, provider_display_name
from directory.domain.professions import PROFESSIONS, profession
from directory.domain.resources import FHIR, Resource, derived_id, name_terms, place_terms

CANONICAL = "https://socialekaart.be/fhir"
PROFESSION_SYSTEM = f"{CANONICAL}/CodeSystem/profession"
RIZIV_SYSTEM = "https://www.riziv.fgov.be/nihdi-number"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"

_DAYS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


def location_id(practice_id: str, position: int) -> str:
    return derived_id("location", practice_id, str(position))


def service_id(practice_id: str, code: str) -> str:
    return derived_id("service", practice_id, code)


def role_id(practice_id: str, provider_id: str, code: str) -> str:
    return derived_id("role", practice_id, provider_id, code)


def profession_concept(code: str) -> dict[str, Any]:
    found = profession(code)
    return {
        "coding": [{"system": PROFESSION_SYSTEM, "code": found.code, "display": found.en}],
        "text": found.nl,
    }


def practitioner(provider: dict[str, Any]) -> Resource:
    """A provider fiche: active while published (never removed: active false once gone)."""
    names: list[dict[str, Any]] = [
        {
            "use": "official",
            "family": provider["official_last_name"],
            "given": [provider["official_first_name"]],
        }
    ]
    if provider.get("preferred_name"):
        names.append({"use": "usual", "text": provider["preferred_name"]})
    numbers = [p for p in provider.get("public_professions") or [] if p.get("riziv_number")]
    content: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": provider["fiche_id"],
        "active": bool(provider["published"]),
        "name": names,
        "qualification": [
            {"code": profession_concept(code)} for code in sorted(set(provider["professions"]))
        ],
    }
    if numbers:
        content["identifier"] = [
            {"use": "official", "system": RIZIV_SYSTEM, "value": p["riziv_number"]} for p in numbers
        ]
    if provider["languages"]:
        content["communication"] = [
            {"coding": [{"system": LANGUAGE_SYSTEM, "code": language}]}
            for language in sorted(set(provider["languages"]))
        ]
    return Resource(
        standard=FHIR,
        type="Practitioner",
        id=provider["fiche_id"],
        owner=provider["fiche_id"],
        active=bool(provider["published"]),
        content=content,
        terms=frozenset(
            name_terms(
                provider["official_first_name"],
                provider["official_last_name"],
                provider.get("preferred_name"),
            )
        ),
    )


@dataclass(frozen=True)
class Offer:
    """A provider's offer in a practice's block, with the provider's facts (if known)."""

    provider_id: str
    profession: str
    provider: dict[str, Any] | None


def _address(address: dict[str, Any]) -> dict[str, Any]:
    line = f"{address['street']} {address['number']}"
    if address.get("box"):
        line += f" bus {address['box']}"
    return {
        "use": "work",
        "type": "physical",
        "line": [line],
        "city": address["municipality"],
        "postalCode": address["postcode"],
        "country": "BE",
    }


def _telecom(facts: dict[str, Any]) -> list[dict[str, Any]]:
    phones = [
        {"system": "phone", "value": p["number"], "use": "work"}
        for p in facts.get("phone_numbers") or []
    ]
    sites = [{"system": "url", "value": w["url"]} for w in facts.get("websites") or []]
    return phones + sites


def _hours(facts: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "daysOfWeek": [_DAYS[h["day"]]],
            "openingTime": f"{h['opens']}:00",
            "closingTime": f"{h['closes']}:00",
        }
        for h in facts.get("opening_hours") or []
        if h.get("day") in _DAYS
    ]


def practice_resources(
    practice: dict[str, Any],
    places: dict[int, tuple[float, float]],
    offers: Sequence[Offer],
) -> list[Resource]:
    """A practice fiche's Organization, Locations, HealthcareServices and PractitionerRoles."""
    practice_id = practice["practice_id"]
    facts = practice["facts"]
    published = bool(practice["published"])
    name = practice["name"]
    addresses = list(facts.get("addresses") or [])
    names = [n["name"] for n in facts.get("names") or []]
    found = name_terms(name, *names)
    organization_ref = {"reference": f"Organization/{practice_id}", "display": name}
    organization: dict[str, Any] = {
        "resourceType": "Organization",
        "id": practice_id,
        "active": published,
        "type": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                        "code": "prov",
                        "display": "Healthcare Provider",
                    }
                ]
            }
        ],
        "name": name,
    }
    if [n for n in names if n != name]:
        organization["alias"] = [n for n in names if n != name]
    if _telecom(facts):
        organization["telecom"] = _telecom(facts)
    if addresses:
        organization["address"] = [_address(a) for a in addresses]
    resources = [
        Resource(
            FHIR,
            "Organization",
            practice_id,
            practice_id,
            published,
            organization,
            frozenset(found | place_terms(addresses)),
        )
    ]
    location_refs = []
    first_point: tuple[float, float] | None = None
    for position, address in enumerate(addresses):
        lid = location_id(practice_id, position)
        location_refs.append({"reference": f"Location/{lid}"})
        location: dict[str, Any] = {
            "resourceType": "Location",
            "id": lid,
            "status": "active" if published else "inactive",
            "name": name,
            "mode": "instance",
            "address": _address(address),
            "managingOrganization": organization_ref,
        }
        point = places.get(position)
        if point is not None:
            location["position"] = {"latitude": point[0], "longitude": point[1]}
            if first_point is None or address is preferred(addresses):
                first_point = point
        if _hours(facts):
            location["hoursOfOperation"] = _hours(facts)
        resources.append(
            Resource(
                FHIR,
                "Location",
                lid,
                practice_id,
                published,
                location,
                frozenset(found | place_terms([address]) | {f"organization:{practice_id}"}),
                point[0] if point else None,
                point[1] if point else None,
            )
        )
    where = place_terms(addresses) | {f"organization:{practice_id}"}
    where |= {f"location:{ref['reference'].split('/')[1]}" for ref in location_refs}
    latitude, longitude = first_point if first_point else (None, None)
    blocks: dict[str, list[Offer]] = {}
    for offer in offers:
        blocks.setdefault(offer.profession, []).append(offer)
    for code, members in sorted(blocks.items()):
        sid = service_id(practice_id, code)
        shown = [m for m in members if m.provider is not None and m.provider["published"]]
        service_active = published and bool(shown)
        service: dict[str, Any] = {
            "resourceType": "HealthcareService",
            "id": sid,
            "active": service_active,
            "providedBy": organization_ref,
            "type": [profession_concept(code)],
            "specialty": [profession_concept(code)],
            "name": f"{name}: {profession(code).nl}",
        }
        if location_refs:
            service["location"] = location_refs
        if _telecom(facts):
            service["telecom"] = _telecom(facts)
        resources.append(
            Resource(
                FHIR,
                "HealthcareService",
                sid,
                practice_id,
                service_active,
                service,
                frozenset(found | where | {f"specialty:{code}"}),
                latitude,
                longitude,
            )
        )
        for member in members:
            rid = role_id(practice_id, member.provider_id, code)
            role_active = (
                published and member.provider is not None and bool(member.provider["published"])
            )
            practitioner_ref: dict[str, Any] = {"reference": f"Practitioner/{member.provider_id}"}
            if member.provider is not None:
                practitioner_ref["display"] = provider_display_name(member.provider)
            role: dict[str, Any] = {
                "resourceType": "PractitionerRole",
                "id": rid,
                "active": role_active,
                "practitioner": practitioner_ref,
                "organization": organization_ref,
                "code": [profession_concept(code)],
                "specialty": [profession_concept(code)],
                "healthcareService": [{"reference": f"HealthcareService/{sid}"}],
            }
            if location_refs:
                role["location"] = location_refs
            resources.append(
                Resource(
                    FHIR,
                    "PractitionerRole",
                    rid,
                    practice_id,
                    role_active,
                    role,
                    frozenset(
                        where
                        | {
                            f"specialty:{code}",
                            f"practitioner:{member.provider_id}",
                            f"service:{sid}",
                        }
                    ),
                    latitude,
                    longitude,
                )
            )
    return resources


def inactive(content: dict[str, Any]) -> dict[str, Any]:
    """A resource as it stays once its fiche, address or offer is gone from the map."""
    if content["resourceType"] == "Location":
        return {**content, "status": "inactive"}
    return {**content, "active": False}


def profession_code_system() -> dict[str, Any]:
    """The directory's professions as a FHIR CodeSystem (nl, fr, en)."""
    return {
        "resourceType": "CodeSystem",
        "id": "profession",
        "url": PROFESSION_SYSTEM,
        "name": "SocialeKaartProfession",
        "title": "Professions of the Sociale Kaart",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "language": "en",
        "property": [
            {
                "code": "riziv-profession-digit",
                "description": "Leading digit of the RIZIV/INAMI number of this profession",
                "type": "string",
            }
        ],
        "concept": [
            {
                "code": p.code,
                "display": p.en,
                "designation": [
                    {"language": "nl", "value": p.nl},
                    {"language": "fr", "value": p.fr},
                    {"language": "en", "value": p.en},
                ],
                **(
                    {"property": [{"code": "riziv-profession-digit", "valueString": p.riziv_digit}]}
                    if p.riziv_digit
                    else {}
                ),
            }
            for p in PROFESSIONS
        ],
    }
