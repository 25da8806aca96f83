"""Demo practices for monolithic mode: a map to search near a place, in FHIR and in HSDS.

The demo register holds professionals only, and practices are what people create on the
portal. Without any, a new `skaart up` showed an empty map wherever a practice is needed:
a search near a place, FHIR Organization, Location and HealthcareService, every HSDS
service. This creates some through fiches' own commands, as a professional creating a
practice fiche on the portal does (name, address, phone, website, opening hours, whom it
serves, their own offer, published), so their events reach the public topics and the
directory as a real practice's do.

Who: published demo providers, none of the development identity provider's demo people
(their stories start without a practice; the guides follow them). Where: addresses in
Flemish and Brussels municipalities the reference geocoder places. When: once fiches has
the demo providers (they arrive through the broker after the import) and holds no
practice fiche yet, so a restart, or a platform where someone made a practice, gets none.
"""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.events.identity import Role
from fiches.adapters.tables import practice_fiches, provider_fiches
from fiches.domain.practice_data import PracticeData
from fiches.domain.provider_own import ProviderOwnData
from fiches.handlers.practices import PracticeCommands
from fiches.handlers.providers import ProviderCommands
from servicekit.auth import Caller

log = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("5b0c6c3e-4f7a-4d0e-9a53-2f3a8a1d6c11")
"""Makes each demo practice's manager a fixed user id (no one logs in as it)."""


@dataclass(frozen=True)
class DemoPlace:
    street: str
    postcode: str
    municipality: str
    phone_zone: str
    """The Belgian trunk prefix of the municipality's landlines (`09`, `050`, ...)."""


PLACES: tuple[DemoPlace, ...] = (
    DemoPlace("Veldstraat", "9000", "Gent", "09"),
    DemoPlace("Groenplaats", "2000", "Antwerpen", "03"),
    DemoPlace("Steenstraat", "8000", "Brugge", "050"),
    DemoPlace("Bondgenotenlaan", "3000", "Leuven", "016"),
    DemoPlace("Anspachlaan", "1000", "Brussel", "02"),
    DemoPlace("Kapelstraat", "3500", "Hasselt", "011"),
    DemoPlace("Bruul", "2800", "Mechelen", "015"),
    DemoPlace("Lange Steenstraat", "8500", "Kortrijk", "056"),
    DemoPlace("Nieuwstraat", "9300", "Aalst", "053"),
    DemoPlace("Stationsstraat", "9100", "Sint-Niklaas", "03"),
    DemoPlace("Kapellestraat", "8400", "Oostende", "059"),
    DemoPlace("Gasthuisstraat", "2300", "Turnhout", "014"),
    DemoPlace("Ooststraat", "8800", "Roeselare", "051"),
    DemoPlace("Dendermondsesteenweg", "9040", "Gent", "09"),
    DemoPlace("Turnhoutsebaan", "2140", "Antwerpen", "03"),
)

#: A practice's name per profession: what such practices are called in Flanders.
NAMES = {
    "physician": "Huisartsenpraktijk",
    "nurse": "Thuisverpleging",
    "physiotherapist": "Kinesitherapie",
    "dentist": "Tandartsenpraktijk",
    "pharmacist": "Apotheek",
    "psychologist": "Psychologenpraktijk",
    "speech_therapist": "Logopediepraktijk",
    "dietitian": "Diëtistenpraktijk",
    "midwife": "Vroedvrouwenpraktijk",
    "occupational_therapist": "Ergotherapiepraktijk",
}


@dataclass(frozen=True)
class DemoProfile:
    """What a demo practice of a profession says about whom it serves and when: filled in
    as a manager would, so that the filters (target group, age, extra offer) and the
    opening hours and websites in FHIR and HSDS show something on a demo map."""

    target_groups: tuple[str, ...]
    age_categories: tuple[str, ...]
    hours: tuple[tuple[str, str], ...]
    """Opening periods of each working day."""
    saturday: tuple[str, str] | None = None


_OFFICE = (("08:30", "12:00"), ("13:30", "18:00"))
PROFILES = {
    "physician": DemoProfile(
        ("gezinnen",),
        ("baby", "child", "adolescent", "adult", "senior"),
        _OFFICE,
        ("09:00", "12:00"),
    ),
    "nurse": DemoProfile(
        ("ouderen", "mensen met een chronische ziekte"),
        ("adult", "senior"),
        (("07:00", "19:00"),),
        ("07:00", "13:00"),
    ),
    "physiotherapist": DemoProfile(
        ("sporters",), ("adolescent", "adult", "senior"), (("08:00", "20:00"),)
    ),
    "dentist": DemoProfile(
        ("kinderen", "gezinnen"), ("child", "adolescent", "adult", "senior"), _OFFICE
    ),
    "pharmacist": DemoProfile((), (), (("08:30", "18:30"),), ("09:00", "17:00")),
    "psychologist": DemoProfile(
        ("jongeren", "volwassenen"), ("adolescent", "adult"), (("09:00", "19:00"),)
    ),
    "speech_therapist": DemoProfile(("kinderen",), ("child", "adolescent"), (("13:00", "19:00"),)),
    "dietitian": DemoProfile(("mensen met diabetes",), ("adult", "senior"), _OFFICE),
    "midwife": DemoProfile(("zwangere vrouwen", "jonge ouders"), ("baby", "adult"), _OFFICE),
    "occupational_therapist": DemoProfile(("ouderen",), ("senior",), _OFFICE),
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
EXTRA_OFFER_EVERY = 4
"""Every fourth physician's or physiotherapist's practice also offers osteopathy, an offer
that is not a RIZIV profession (`profession=osteopaat` finds it)."""


def _opening_hours(profile: DemoProfile) -> list[dict[str, str]]:
    periods = [
        {"day": day, "opens": opens, "closes": closes}
        for day in WEEKDAYS
        for opens, closes in profile.hours
    ]
    if profile.saturday:
        periods.append(
            {"day": "saturday", "opens": profile.saturday[0], "closes": profile.saturday[1]}
        )
    return periods


def _web_name(name: str) -> str:
    """A practice name as a host name: lower-case letters and digits joined by hyphens."""
    letters = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in letters).split())


@dataclass(frozen=True)
class DemoProvider:
    professional_id: str
    first_name: str
    last_name: str
    professions: tuple[str, ...]
    fiche_id: str = ""


def languages_for(number: int) -> list[str]:
    """The languages the `number`-th demo practice's provider speaks, as they would fill
    them in: Dutch everywhere, French too in Brussels and at every fifth practice, English
    at every third (`language=fr` and `language=en` find some on a demo map)."""
    place = PLACES[number % len(PLACES)]
    spoken = ["nl"]
    if place.postcode.startswith("1") or number % 5 == 0:
        spoken.append("fr")
    if number % 3 == 0:
        spoken.append("en")
    return spoken


def _phone(place: DemoPlace, number: int) -> str:
    """A landline in the place's zone: nine digits with the trunk 0, as Belgium has."""
    rest = f"{number % 97:02d} {11 + number % 89:02d}"
    if len(place.phone_zone) == 2:
        return f"{place.phone_zone} {200 + number % 600:03d} {rest}"
    return f"{place.phone_zone} {20 + number % 60:02d} {rest}"


def practice_for(provider: DemoProvider, number: int, taken: set[str]) -> PracticeData:
    """The `number`-th demo practice, run by `provider`: named after them and their first
    profession, at the next place; the municipality is added to a name already taken."""
    place = PLACES[number % len(PLACES)]
    name = f"{NAMES.get(provider.professions[0], 'Praktijk')} {provider.last_name}"
    if name in taken:
        name = f"{name} {place.municipality}"
    if name in taken:
        name = f"{name} {number}"
    taken.add(name)
    profession = provider.professions[0]
    profile = PROFILES.get(profession, PROFILES["physician"])
    extra = (
        ["osteopaat"]
        if profession in ("physician", "physiotherapist") and number % EXTRA_OFFER_EVERY == 0
        else []
    )
    return PracticeData.model_validate(
        {
            "names": [{"name": name, "preferred": True}],
            "addresses": [
                {
                    "street": place.street,
                    "number": str(1 + (number * 7) % 180),
                    "postcode": place.postcode,
                    "municipality": place.municipality,
                    "preferred": True,
                }
            ],
            "phone_numbers": [{"number": _phone(place, number), "preferred": True}],
            # `.example` is reserved (RFC 2606): a demo link leads nowhere real.
            "websites": [{"url": f"https://{_web_name(name)}.example", "preferred": True}],
            "target_groups": list(profile.target_groups),
            "age_categories": list(profile.age_categories),
            "opening_hours": _opening_hours(profile),
            "extra_offer": extra,
        }
    )


def _caller(provider: DemoProvider) -> Caller:
    return Caller(
        user_id=str(uuid.uuid5(_NAMESPACE, provider.professional_id)),
        roles=frozenset({Role.PROFESSIONAL}),
        session_id="demo-practices",
        professional_id=provider.professional_id,
        professions=provider.professions,
        display_name=f"{provider.first_name} {provider.last_name}",
    )


async def published_providers(
    sessions: async_sessionmaker[AsyncSession], excluded_names: set[tuple[str, str]]
) -> list[DemoProvider]:
    """Published provider fiches with a profession a practice can offer, in a fixed order
    (by professional id), without the people whose (first name, last name) is excluded."""
    table = provider_fiches
    async with sessions() as session:
        rows = await session.execute(
            sa.select(
                table.c.professional_id,
                table.c.official_first_name,
                table.c.official_last_name,
                table.c.profession_codes,
                table.c.fiche_id,
            )
            .where(table.c.published)
            .order_by(table.c.professional_id)
        )
        found = [
            DemoProvider(pid, first, last, tuple(codes.split()), fiche_id)
            for pid, first, last, codes, fiche_id in rows
            if codes and (first, last) not in excluded_names
        ]
    return found


async def has_practices(sessions: async_sessionmaker[AsyncSession]) -> bool:
    async with sessions() as session:
        return (await session.scalar(sa.select(practice_fiches.c.practice_id).limit(1))) is not None


async def create_demo_practices(
    commands: PracticeCommands,
    providers: Sequence[DemoProvider],
    count: int,
    provider_commands: ProviderCommands,
) -> list[str]:
    """`count` published practices (at most one per provider), each with its provider's
    offer of every profession they have; their ids. Each of those providers also
    publishes the languages they speak on their own fiche."""
    created: list[str] = []
    taken: set[str] = set()
    for number, provider in enumerate(providers[:count]):
        practice = practice_for(provider, number, taken)
        caller = _caller(provider)
        created.append(await commands.create(caller, practice, provider.professions, publish=True))
        own = ProviderOwnData(languages=languages_for(number))
        await provider_commands.save_own(caller, provider.fiche_id, own, publish=True)
    return created


async def _settled(
    read: Callable[[], Awaitable[list[DemoProvider]]], deadline_s: float, poll_s: float
) -> list[DemoProvider]:
    """Polls `read` until it finds providers and the same number three times running (the
    demo import has reached fiches), or the deadline passes; what it read last."""
    deadline = time.monotonic() + deadline_s
    counts: list[int] = []
    found: list[DemoProvider] = []
    while time.monotonic() < deadline:
        found = await read()
        counts.append(len(found))
        if len(counts) >= 3 and counts[-1] > 0 and len(set(counts[-3:])) == 1:
            break
        await asyncio.sleep(poll_s)
    return found


async def seed_demo_practices(
    sessions: async_sessionmaker[AsyncSession],
    commands: PracticeCommands,
    *,
    count: int,
    excluded_names: set[tuple[str, str]],
    deadline_s: float = 300.0,
    poll_s: float = 1.0,
    provider_commands: ProviderCommands,
) -> int:
    """Waits for the demo providers, then creates the demo practices once (and their
    providers' languages); how many."""
    if count <= 0 or await has_practices(sessions):
        return 0
    providers = await _settled(
        lambda: published_providers(sessions, excluded_names), deadline_s, poll_s
    )
    if not providers:
        log.warning(
            "no demo practices: fiches had no published provider fiche within %g s (the "
            "demo register did not reach it); restart `skaart up` to try again",
            deadline_s,
        )
        return 0
    if await has_practices(sessions):  # someone made one meanwhile: theirs stays alone
        return 0
    created = await create_demo_practices(commands, providers, count, provider_commands)
    log.info("demo practices published", extra={"practices": len(created)})
    return len(created)
