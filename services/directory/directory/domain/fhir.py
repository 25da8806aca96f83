"""The directory as FHIR R4 resources, the way IHE mCSD maps a provider directory.

A provider is a Practitioner; a practice an Organization with a Location per address; an
offer block (a practice's profession) a HealthcareService; a provider's offer in a block a
PractitionerRole linking the four. Only what the public topics carry is used: no national
register number, no registry person id, no e-mail address, no edit version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from directory.domain.documents import provider_display_name
from directory.domain.practice_view import (
    Block,
    Offer,
    Place,
    PracticeView,
    box_line,
    practice_view,
    role_id,
    service_id,
    street_line,
)
from directory.domain.professions import (
    BY_HCPARTY,
    HCPARTY_SYSTEM,
    PROFESSIONS,
    Profession,
    profession,
)
from directory.domain.provinces import province_of
from directory.domain.resources import FHIR, Resource, name_terms
from directory.domain.text import words

CANONICAL = "https://socialekaart.be/fhir"
PROFESSION_SYSTEM = f"{CANONICAL}/CodeSystem/profession"
RIZIV_SYSTEM = "https://www.riziv.fgov.be/nihdi-number"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
ORGANIZATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
MCSD_TYPE_SYSTEM = (
    "https://profiles.ihe.net/ITI/mCSD/CodeSystem/IHE.mCSD.Organization.Location.Types"
)
PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"

FACILITY = {"system": MCSD_TYPE_SYSTEM, "code": "facility", "display": "Facility"}
"""mCSD's type of a facility's Organization and Location: a practice at its addresses is
a physical care delivery site, which mCSD pairs as an Organization and a Location."""
PROVIDER = {"system": ORGANIZATION_TYPE_SYSTEM, "code": "prov", "display": "Healthcare Provider"}
BUILDING = {"system": PHYSICAL_TYPE_SYSTEM, "code": "bu", "display": "Building"}

RESOURCE_TYPES: dict[str, tuple[dict[str, str], ...]] = {
    "Organization": (PROVIDER, FACILITY),
    "Location": (FACILITY,),
}
"""The `type` codings every resource of these FHIR types carries (searched by `type`)."""

_DAYS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


def profession_concept(code: str) -> dict[str, Any]:
    found = profession(code)
    return {
        "coding": [{"system": PROFESSION_SYSTEM, "code": found.code, "display": found.en}],
        "text": found.nl,
    }


def profession_of_token(value: str) -> str | None:
    """The profession a FHIR token names: `code`, `system|code` in our own CodeSystem, or
    the national code in eHealth's CD-HCPARTY (`...cd-hcparty|persnurse`: the same
    profession); None when no profession can have it (another system or a national code
    no profession here has, or `|code`: a code without a system)."""
    system, bar, code = value.rpartition("|")
    if bar and system == HCPARTY_SYSTEM:
        national = BY_HCPARTY.get(code)
        return national.code if national else None
    if bar and system != PROFESSION_SYSTEM:
        return None
    return code


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
            | {
                term
                for p in numbers
                for term in identifier_terms(RIZIV_SYSTEM, str(p["riziv_number"]))
            }
            | name_part_terms(provider["official_last_name"], [provider["official_first_name"]])
        ),
    )


def identifier_terms(system: str, value: str) -> tuple[str, str]:
    """The terms `identifier=` finds a resource's identifier by: its value (any system),
    and `system|value`. Migration 0009 writes the same from the stored content."""
    return f"identifier:{value}", f"identifier:{system}|{value}"


def name_part_terms(family: str | None, given: Iterable[str | None]) -> set[str]:
    """The terms `family=` and `given=` find a practitioner's official name by, a word
    each (`family:van`, `family:schelvergem`, `given:nele`): searched by prefix, as `name`
    searches every word. Migration 0009 writes the same from the stored content."""
    return {f"family:{word}" for word in words(family)} | {
        f"given:{word}" for part in given for word in words(part)
    }


def _address(address: dict[str, Any]) -> dict[str, Any]:
    line = " ".join(part for part in (street_line(address), box_line(address)) if part)
    found: dict[str, Any] = {
        "use": "work",
        "type": "physical",
        "line": [line],
        "city": address["municipality"],
        "postalCode": address["postcode"],
        "country": "BE",
    }
    province = province_of(address["postcode"])
    if province is not None:
        found["state"] = province.name
    return found


def _telecom(view: PracticeView) -> list[dict[str, Any]]:
    phones = [{"system": "phone", "value": number, "use": "work"} for number in view.phones]
    return phones + [{"system": "url", "value": url} for url in view.websites]


def _hours(view: PracticeView) -> list[dict[str, Any]]:
    return [
        {
            "daysOfWeek": [_DAYS[h.day]],
            "openingTime": f"{h.opens}:00",
            "closingTime": f"{h.closes}:00",
        }
        for h in view.hours
    ]


def _organization(view: PracticeView) -> Resource:
    organization: dict[str, Any] = {
        "resourceType": "Organization",
        "id": view.id,
        "active": view.published,
        "type": [{"coding": [dict(coding)]} for coding in RESOURCE_TYPES["Organization"]],
        "name": view.name,
    }
    if view.other_names:
        organization["alias"] = view.other_names
    if _telecom(view):
        organization["telecom"] = _telecom(view)
    if view.places:
        organization["address"] = [_address(p.address) for p in view.places]
    terms = frozenset(view.name_terms | view.place_terms)
    return Resource(FHIR, "Organization", view.id, view.id, view.published, organization, terms)


def _organization_reference(view: PracticeView) -> dict[str, Any]:
    return {"reference": f"Organization/{view.id}", "display": view.name}


def _location(view: PracticeView, place: Place) -> Resource:
    location: dict[str, Any] = {
        "resourceType": "Location",
        "id": place.id,
        "status": "active" if view.published else "inactive",
        "name": view.name,
        "mode": "instance",
        "type": [{"coding": [dict(coding)]} for coding in RESOURCE_TYPES["Location"]],
        "physicalType": {"coding": [dict(BUILDING)]},
        "address": _address(place.address),
        "managingOrganization": _organization_reference(view),
    }
    if place.point is not None:
        location["position"] = {"latitude": place.point[0], "longitude": place.point[1]}
    if _hours(view):
        location["hoursOfOperation"] = _hours(view)
    latitude, longitude = place.point or (None, None)
    return Resource(
        FHIR,
        "Location",
        place.id,
        view.id,
        view.published,
        location,
        frozenset(view.name_terms | place.terms | {f"organization:{view.id}"}),
        latitude,
        longitude,
    )


def _where(view: PracticeView) -> set[str]:
    """What a service or role of the practice is found by: its places and organization."""
    return (
        view.place_terms
        | {f"organization:{view.id}"}
        | {f"location:{place.id}" for place in view.places}
    )


def _locations_referenced(view: PracticeView) -> list[dict[str, str]]:
    return [{"reference": f"Location/{place.id}"} for place in view.places]


def _service(view: PracticeView, block: Block) -> Resource:
    sid = service_id(view.id, block.code)
    active = view.published and bool(block.shown)
    service: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": sid,
        "active": active,
        "providedBy": _organization_reference(view),
        "type": [profession_concept(block.code)],
        "specialty": [profession_concept(block.code)],
        "name": f"{view.name}: {profession(block.code).nl}",
    }
    if view.places:
        service["location"] = _locations_referenced(view)
    if _telecom(view):
        service["telecom"] = _telecom(view)
    latitude, longitude = view.main_point or (None, None)
    terms = view.name_terms | _where(view) | {f"specialty:{block.code}"}
    return Resource(
        FHIR,
        "HealthcareService",
        sid,
        view.id,
        active,
        service,
        frozenset(terms),
        latitude,
        longitude,
    )


def _role(view: PracticeView, block: Block, member: Offer) -> Resource:
    sid = service_id(view.id, block.code)
    rid = role_id(view.id, member.provider_id, block.code)
    active = view.published and member.shown
    practitioner_ref: dict[str, Any] = {"reference": f"Practitioner/{member.provider_id}"}
    if member.provider is not None:
        practitioner_ref["display"] = provider_display_name(member.provider)
    role: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": rid,
        "active": active,
        "practitioner": practitioner_ref,
        "organization": _organization_reference(view),
        "code": [profession_concept(block.code)],
        "specialty": [profession_concept(block.code)],
        "healthcareService": [{"reference": f"HealthcareService/{sid}"}],
    }
    if view.places:
        role["location"] = _locations_referenced(view)
    terms = _where(view) | {
        f"specialty:{block.code}",
        f"practitioner:{member.provider_id}",
        f"service:{sid}",
    }
    latitude, longitude = view.main_point or (None, None)
    return Resource(
        FHIR, "PractitionerRole", rid, view.id, active, role, frozenset(terms), latitude, longitude
    )


def practice_resources(
    practice: dict[str, Any],
    places: dict[int, tuple[float, float]],
    offers: Sequence[Offer],
) -> list[Resource]:
    """A practice fiche's Organization, Locations, HealthcareServices and PractitionerRoles."""
    view = practice_view(practice, places, offers)
    resources = [_organization(view)]
    resources += [_location(view, place) for place in view.places]
    for block in view.blocks:
        resources.append(_service(view, block))
        resources += [_role(view, block, member) for member in block.members]
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
            },
            {
                "code": "cd-hcparty",
                "uri": HCPARTY_SYSTEM,
                "description": "The same profession in eHealth's healthcare party codes "
                "(CD-HCPARTY), as Belgian FHIR and KMEHR systems name it",
                "type": "Coding",
            },
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
                **({"property": _concept_properties(p)} if p.riziv_digit or p.hcparty else {}),
            }
            for p in PROFESSIONS
        ],
    }


def _concept_properties(found: Profession) -> list[dict[str, Any]]:
    properties: list[dict[str, Any]] = []
    if found.riziv_digit:
        properties.append({"code": "riziv-profession-digit", "valueString": found.riziv_digit})
    if found.hcparty:
        properties.append(
            {"code": "cd-hcparty", "valueCoding": {"system": HCPARTY_SYSTEM, "code": found.hcparty}}
        )
    return properties
