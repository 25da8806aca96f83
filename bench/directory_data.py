"""The directory's benchmark data, shared by bench/fiches_search.py and bench/directory.py.

`generate` draws providers, practices and offer links (seeded, so every run has the same
data); `copy_facts` and `copy_search_index` write what the projection would have written
for them (facts, search documents, search terms and name prefixes), built by the
directory's own functions, with COPY.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime
from typing import Any

import asyncpg
import orjson

PROFESSIONS = [
    ("physician", 30),
    ("nurse", 25),
    ("physiotherapist", 12),
    ("pharmacist", 8),
    ("dentist", 6),
    ("midwife", 3),
    ("dietitian", 3),
    ("speech_therapist", 4),
    ("occupational_therapist", 3),
    ("clinical_psychologist", 6),
]
LANGUAGES = [("nl", 0.9), ("fr", 0.3), ("en", 0.2), ("de", 0.03), ("ar", 0.02), ("tr", 0.02)]
TARGET_GROUPS = [
    "kinderen",
    "jongeren",
    "volwassenen",
    "ouderen",
    "gezinnen",
    "mensen met een beperking",
    "vluchtelingen",
    "zwangere vrouwen",
]
FIRST = [
    "Marc",
    "Nele",
    "An",
    "Jan",
    "Els",
    "Tom",
    "Sofie",
    "Pieter",
    "Lotte",
    "Wim",
    "Katrien",
    "Bart",
    "Lies",
    "Koen",
    "Ine",
    "Jef",
    "Mieke",
    "Dirk",
    "Hanne",
    "Luc",
    "Fien",
    "Geert",
    "Ann",
    "Stijn",
    "Griet",
    "Karel",
    "Eva",
    "Joris",
    "Sara",
    "Bert",
    "Leen",
    "Raf",
    "Lien",
    "Jo",
    "Veerle",
    "Dries",
    "Kaat",
    "Seppe",
    "Femke",
    "Arne",
    "Julie",
    "Robbe",
    "Lore",
    "Wout",
    "Emma",
    "Lars",
    "Marie",
    "Ruben",
]
SYLLABLES = [
    "van",
    "de",
    "ver",
    "meer",
    "bos",
    "broek",
    "berg",
    "man",
    "s",
    "en",
    "ens",
    "ckx",
    "kens",
    "ghe",
    "daele",
    "mans",
    "huys",
    "wijn",
    "hout",
    "kerk",
    "dam",
    "veld",
    "hove",
    "straete",
    "beke",
    "donck",
    "laer",
    "poel",
    "rijck",
    "schuere",
]


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _last_name(rng: random.Random) -> str:
    parts = [rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))]
    name = "".join(parts).capitalize()
    return f"Van {name}" if rng.random() < 0.15 else name


def _places(rng: random.Random) -> list[tuple[str, str]]:
    """~1,100 (postcode, municipality) pairs; several postcodes share a municipality."""
    places: list[tuple[str, str]] = []
    for number, postcode in enumerate(sorted(rng.sample(range(1000, 10000), 1100))):
        municipality = (rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + "gem").capitalize()
        if number % 3 and places:
            municipality = places[-1][1]
        places.append((str(postcode), municipality))
    return places


def generate(
    providers: int, practices: int, seed: int = 7
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[str, str, str]]]:
    rng = random.Random(seed)
    places = _places(rng)
    practice_rows = []
    for number in range(practices):
        postcode, municipality = rng.choice(places)
        name = (
            f"{rng.choice(['Praktijk', 'Groepspraktijk', 'Wijkgezondheidscentrum', 'Huisartsen'])}"
            f" {_last_name(rng)}"
        )
        facts = {
            "names": [{"name": name, "preferred": True}],
            "addresses": [
                {
                    "street": f"{rng.choice(SYLLABLES).capitalize()}straat",
                    "number": str(rng.randint(1, 200)),
                    "box": None,
                    "postcode": postcode,
                    "municipality": municipality,
                    "preferred": True,
                }
            ],
            "phone_numbers": [{"number": f"+3292{number:07d}", "preferred": True}],
            "websites": [],
            "target_groups": rng.sample(TARGET_GROUPS, rng.randint(0, 3)),
            "age_categories": [],
            "wijken": [],
            "contact_persons": [],
            "opening_hours": [],
            "extra_offer": ["osteopaat"] if rng.random() < 0.03 else [],
        }
        practice_rows.append({"practice_id": f"pr-{number:06d}", "name": name, "facts": facts})
    provider_rows = []
    offers: list[tuple[str, str, str]] = []
    for number in range(providers):
        fiche_id = f"pv-{number:07d}"
        profession = _weighted(rng, PROFESSIONS)
        languages = [code for code, share in LANGUAGES if rng.random() < share] or ["nl"]
        provider_rows.append(
            {
                "fiche_id": fiche_id,
                "official_first_name": rng.choice(FIRST),
                "official_last_name": _last_name(rng),
                "preferred_name": None,
                "professions": [profession],
                "languages": languages,
            }
        )
        # Most providers work at one practice, some at two, some at none.
        for _ in range(rng.choices([0, 1, 2], weights=[10, 75, 15])[0]):
            offers.append((str(rng.choice(practice_rows)["practice_id"]), fiche_id, profession))
    return provider_rows, practice_rows, list(dict.fromkeys(offers))


async def copy(
    connection: asyncpg.Connection, table: str, rows: list[tuple[Any, ...]], columns: list[str]
) -> None:
    if rows:
        await connection.copy_records_to_table(table, records=rows, columns=columns)


_PROVIDER_COLUMNS = [
    "fiche_id",
    "published",
    "revision",
    "official_first_name",
    "official_last_name",
    "preferred_name",
    "professions",
    "languages",
    "updated_at",
    "public_professions",
]


def publish(provider_rows: list[dict[str, Any]]) -> None:
    """The fields a published provider event carries beyond the generator's."""
    for p in provider_rows:
        p["published"] = True
        p["public_professions"] = [
            {"profession": c, "riziv_number": None} for c in p["professions"]
        ]


def links(
    provider_rows: list[dict[str, Any]],
    practice_rows: list[dict[str, Any]],
    offers: list[tuple[str, str, str]],
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Per provider the practices they work at; per practice its staff."""
    by_provider = {p["fiche_id"]: p for p in provider_rows}
    by_practice = {p["practice_id"]: p for p in practice_rows}
    at: dict[str, list[Any]] = defaultdict(list)
    staff: dict[str, list[Any]] = defaultdict(list)
    for practice_id, fiche_id, profession in offers:
        practice = by_practice[practice_id]
        at[fiche_id].append((practice_id, practice["name"], practice["facts"]))
        staff[practice_id].append((profession, by_provider[fiche_id]))
    return at, staff


async def copy_facts(
    connection: asyncpg.Connection,
    provider_rows: list[dict[str, Any]],
    practice_rows: list[dict[str, Any]],
    offers: list[tuple[str, str, str]],
    now: datetime,
) -> None:
    """The published facts: providers (with `publish` applied), practices, offer links."""

    def text(value: Any) -> str:
        return orjson.dumps(value).decode()

    await copy(
        connection,
        "search_providers",
        [
            (
                p["fiche_id"],
                True,
                1,
                p["official_first_name"],
                p["official_last_name"],
                None,
                text(p["professions"]),
                text(p["languages"]),
                now,
                text(p["public_professions"]),
            )
            for p in provider_rows
        ],
        _PROVIDER_COLUMNS,
    )
    await copy(
        connection,
        "search_practices",
        [(p["practice_id"], True, 1, p["name"], text(p["facts"]), now) for p in practice_rows],
        ["practice_id", "published", "revision", "name", "facts", "updated_at"],
    )
    await copy(
        connection, "search_offers", offers, ["practice_id", "provider_fiche_id", "profession"]
    )


async def copy_search_index(connection: asyncpg.Connection, built: list[Any]) -> None:
    """Search documents, terms and name prefixes of built fiches (documents.Built)."""

    await copy(
        connection,
        "search_documents",
        [(b.kind, b.fiche_id, b.sort_key, b.document) for b in built],
        ["kind", "fiche_id", "sort_key", "document"],
    )
    await copy(
        connection,
        "search_terms",
        [(t, b.kind, b.fiche_id, b.sort_key) for b in built for t in b.terms],
        ["term", "kind", "fiche_id", "sort_key"],
    )
    if await has_table(connection, "search_prefixes"):
        from directory.domain.text import stored_prefixes

        await copy(
            connection,
            "search_prefixes",
            [
                (prefix, b.sort_key, b.kind, b.fiche_id, t)
                for b in built
                for t in b.terms
                for prefix in stored_prefixes(t)
            ],
            ["prefix", "sort_key", "kind", "fiche_id", "term"],
        )


async def has_table(connection: asyncpg.Connection, table: str) -> bool:
    """Whether the migrated schema has this table (a run on an older checkout has not)."""
    return bool(await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table))
