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

from directory.domain.practice_view import (
    Block,
    Offer,
    Place,
    PracticeView,
    box_line,
    practice_view,
    service_id,
    street_line,
)
from directory.domain.professions import PROFESSIONS, profession
from directory.domain.provinces import province_of
from directory.domain.resources import HSDS, Resource, derived_id, name_terms
from directory.domain.text import words

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


def taxonomy() -> dict[str, Any]:
    """The one taxonomy the services' terms come from: the platform's professions."""
    return {
        "id": TAXONOMY_ID,
        "name": "Sociale Kaart professions",
        "description": "The professions of the healthcare providers on the Sociale Kaart, "
        "named in Dutch, French and English; also the FHIR CodeSystem at "
        "/fhir/CodeSystem/profession.",
        "uri": TAXONOMY_URI,
    }


def taxonomies(search: str | None = None) -> list[dict[str, Any]]:
    """The taxonomies: `taxonomy()`, unless `search` does not find it by its name."""
    found = taxonomy()
    return [found] if _found_by(search, found["name"]) else []


def taxonomy_terms(search: str | None = None) -> list[dict[str, Any]]:
    """The terms of `taxonomy()`, one per known profession, by code; with `search`, those
    it finds by their code or a name in any of the three languages."""
    return [
        taxonomy_term(known.code)
        for known in sorted(PROFESSIONS, key=lambda p: p.code)
        if _found_by(search, " ".join((known.code, known.nl, known.fr, known.en)))
    ]


def _found_by(search: str | None, text: str) -> bool:
    """Whether each word of `search` starts a word of `text`, as a service's `search`
    matches its name (accents and case aside)."""
    own = words(text)
    return all(any(word.startswith(wanted) for word in own) for wanted in words(search))


def _address(place: Place) -> dict[str, Any]:
    address = place.address
    province = province_of(address["postcode"])
    return {
        "id": derived_id("address", place.id, str(place.position)),
        "location_id": place.id,
        "address_1": street_line(address),
        "address_2": box_line(address),
        "city": address["municipality"],
        # Required by HSDS: the province (Brussels: its region, which is in none).
        "state_province": province.name if province else address["municipality"],
        "region": province.region if province else None,
        "postal_code": address["postcode"],
        "country": "BE",
        "address_type": "physical",
    }


def _phones(owner_field: str, owner: str, view: PracticeView) -> list[dict[str, Any]]:
    return [
        {"id": derived_id("phone", owner, number), owner_field: owner, "number": number}
        for number in view.phones
    ]


def _schedules(location: str, view: PracticeView) -> list[dict[str, Any]]:
    return [
        {
            "id": derived_id("schedule", location, str(h.position)),
            "location_id": location,
            "freq": "WEEKLY",
            "byday": _DAYS[h.day],
            "opens_at": h.opens,
            "closes_at": h.closes,
            "description": h.note,
        }
        for h in view.hours
    ]


def _organization(view: PracticeView) -> Resource:
    municipalities = sorted({p.address["municipality"] for p in view.places})
    organization: dict[str, Any] = {
        "id": view.id,
        "name": view.name,
        "alternate_name": next(iter(view.other_names), None),
        "description": f"{view.name}, practice on the Sociale Kaart"
        + (f" ({', '.join(municipalities)})" if municipalities else ""),
        "website": view.websites[0] if view.websites else None,
        "phones": _phones("organization_id", view.id, view),
    }
    terms = frozenset(view.name_terms | view.place_terms)
    return Resource(HSDS, "organization", view.id, view.id, view.published, organization, terms)


def _location_record(view: PracticeView, place: Place) -> dict[str, Any]:
    return {
        "id": place.id,
        "location_type": "physical",
        "organization_id": view.id,
        "name": view.name,
        "latitude": place.point[0] if place.point else None,
        "longitude": place.point[1] if place.point else None,
        "addresses": [_address(place)],
        "phones": _phones("location_id", place.id, view),
        "schedules": _schedules(place.id, view),
    }


def _location(view: PracticeView, place: Place) -> Resource:
    latitude, longitude = place.point or (None, None)
    return Resource(
        HSDS,
        "location",
        place.id,
        view.id,
        view.published,
        _location_record(view, place),
        frozenset(view.name_terms | place.terms | {f"organization:{view.id}"}),
        latitude,
        longitude,
    )


def _service_record(view: PracticeView, block: Block, active: bool) -> dict[str, Any]:
    sid = service_id(view.id, block.code)
    found = profession(block.code)
    languages = sorted({lang for m in block.shown for lang in m.provider["languages"]})  # type: ignore[index]
    term = taxonomy_term(block.code)
    return {
        "id": sid,
        "organization_id": view.id,
        "name": f"{view.name}: {found.nl}",
        "description": f"{found.nl} ({found.fr}) at {view.name}",
        "status": "active" if active else "inactive",
        "url": view.websites[0] if view.websites else None,
        "phones": _phones("service_id", sid, view),
        "languages": [
            {"id": derived_id("language", sid, lang), "service_id": sid, "code": lang}
            for lang in languages
        ],
        "attributes": [
            {
                "id": derived_id("attribute", sid, block.code),
                "link_id": sid,
                "link_type": "service",
                "link_entity": "service",
                "taxonomy_term_id": term["id"],
                "taxonomy_term": term,
            }
        ],
    }


def _profession_terms(code: str) -> set[str]:
    """The words of a profession's names in Dutch, French and English: `search=infirmier`
    and `search=nurse` find the services `search=verpleeg` finds."""
    found = profession(code)
    return name_terms(found.nl, found.fr, found.en)


def _taxonomy_terms(code: str) -> set[str]:
    return {f"taxonomy:{taxonomy_term_id(code)}", f"taxonomy:{code}"}


def _service(view: PracticeView, block: Block) -> tuple[Resource, dict[str, Any]]:
    active = view.published and bool(block.shown)
    service = _service_record(view, block, active)
    terms = (
        view.name_terms
        | _profession_terms(block.code)
        | view.place_terms
        | {f"organization:{view.id}"}
        | _taxonomy_terms(block.code)
    )
    first = next((p.point for p in view.places if p.point), None)
    latitude, longitude = first or (None, None)
    resource = Resource(
        HSDS,
        "service",
        service["id"],
        view.id,
        active,
        service,
        frozenset(terms),
        latitude,
        longitude,
    )
    return resource, service


def _service_at_location(
    view: PracticeView, block: Block, service: Resource, place: Place
) -> Resource:
    at_id = derived_id("service-at-location", service.id, place.id)
    location = _location_record(view, place)
    record = {
        "id": at_id,
        "service_id": service.id,
        "location_id": place.id,
        "service": {k: service.content[k] for k in ("id", "name", "status")},
        "location": {k: location[k] for k in ("id", "location_type", "name", "addresses")},
    }
    terms = (
        view.name_terms
        | _profession_terms(block.code)
        | place.terms
        | _taxonomy_terms(block.code)
        | {f"organization:{view.id}"}
    )
    latitude, longitude = place.point or (None, None)
    return Resource(
        HSDS,
        "service_at_location",
        at_id,
        view.id,
        service.active,
        record,
        frozenset(terms),
        latitude,
        longitude,
    )


def practice_records(
    practice: dict[str, Any],
    places: dict[int, tuple[float, float]],
    offers: Sequence[Offer],
) -> list[Resource]:
    """A practice fiche's organization, locations, services and services at locations."""
    view = practice_view(practice, places, offers)
    records = [_organization(view)]
    records += [_location(view, place) for place in view.places]
    for block in view.blocks:
        service, _ = _service(view, block)
        records.append(service)
        records += [_service_at_location(view, block, service, place) for place in view.places]
    return records
