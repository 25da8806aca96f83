"""One published fiche as search shows it: its document (the hit) and the terms it is found by.

A provider's hit lists the practices they work at (and is found by their postcodes); a
practice's hit shows its offer blocks (and is found by its providers' languages).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from directory.domain.qualifications import groups_of
from directory.domain.text import normalized, words

PROVIDER = "provider"
PRACTICE = "practice"

# Published practice facts kept for the search hit (e-mail addresses never travel on the
# topic, so they cannot appear here either).
PRACTICE_FACTS = (
    "names",
    "addresses",
    "phone_numbers",
    "websites",
    "target_groups",
    "age_categories",
    "wijken",
    "contact_persons",
    "opening_hours",
    "extra_offer",
)


def _terms(prefix: str, values: Iterable[str | None]) -> set[str]:
    return {f"{prefix}:{value}" for value in (normalized(v) for v in values) if value}


def preferred(items: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The item marked preferred, else the first one."""
    return next((i for i in items if i.get("preferred")), items[0] if items else None)


@dataclass(frozen=True)
class Built:
    """One published fiche as the search reads it."""

    kind: str
    fiche_id: str
    sort_key: str
    document: str
    terms: frozenset[str]

    def document_row(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "fiche_id": self.fiche_id,
            "sort_key": self.sort_key,
            "document": self.document,
        }

    def term_rows(self) -> Iterator[dict[str, str]]:
        for term in sorted(self.terms):
            yield {
                "term": term,
                "kind": self.kind,
                "fiche_id": self.fiche_id,
                "sort_key": self.sort_key,
            }


def provider_display_name(provider: dict[str, Any]) -> str:
    """The name the provider goes by on the map (DOMAIN.md: Albert Segers goes by Bert
    Segers), as fiches shows it.

    The preferred name is the whole name when it has several words ("Bert Segers"); a
    single word is the first name they go by, so the surname is kept ("Bert" → "Bert
    Segers"). Without one, the official name.
    """
    last = provider["official_last_name"]
    preferred = " ".join(str(provider.get("preferred_name") or "").split())
    if not preferred:
        return f"{provider['official_first_name']} {last}"
    if len(preferred.split(" ")) == 1:
        return f"{preferred} {last}"
    return preferred


def practice_summary(practice_id: str, facts: dict[str, Any], name: str) -> dict[str, Any]:
    """How a practice appears inside a provider's hit."""
    address = preferred(facts.get("addresses") or [])
    return {
        "practice_id": practice_id,
        "name": name,
        "postcode": address["postcode"] if address else None,
        "municipality": address["municipality"] if address else None,
    }


def build_provider(
    provider: dict[str, Any], practices: Sequence[tuple[str, str, dict[str, Any]]]
) -> Built:
    """A published provider's hit; `practices`: (id, name, facts) of published practices
    where their offer is linked."""
    fiche_id = provider["fiche_id"]
    professions = sorted(set(provider["professions"]))
    languages = sorted(set(provider["languages"]))
    ordered = sorted(practices, key=lambda p: (normalized(p[1]), p[0]))
    document = {
        "type": PROVIDER,
        "id": fiche_id,
        "name": provider_display_name(provider),
        "official_first_name": provider["official_first_name"],
        "official_last_name": provider["official_last_name"],
        "preferred_name": provider.get("preferred_name"),
        "professions": professions,
        "languages": languages,
        "practices": [practice_summary(pid, facts, name) for pid, name, facts in ordered],
    }
    terms = _terms(
        "n",
        [
            *words(provider["official_first_name"]),
            *words(provider["official_last_name"]),
            *words(provider.get("preferred_name")),
        ],
    )
    terms |= _terms("p", professions) | _terms("l", languages)
    terms |= _terms("q", groups_of(provider.get("public_professions") or []))
    for _, _, facts in practices:
        terms |= _location_terms(facts)
    return Built(
        kind=PROVIDER,
        fiche_id=fiche_id,
        sort_key=normalized(f"{provider['official_last_name']} {provider['official_first_name']}")[
            :380
        ],
        document=orjson.dumps(document).decode(),
        terms=frozenset(terms),
    )


def _location_terms(facts: dict[str, Any]) -> set[str]:
    addresses = facts.get("addresses") or []
    return (
        _terms("pc", [a.get("postcode") for a in addresses])
        | _terms("m", [a.get("municipality") for a in addresses])
        | _terms("t", facts.get("target_groups") or [])
    )


def build_practice(
    practice_id: str,
    name: str,
    facts: dict[str, Any],
    offers: Sequence[tuple[str, dict[str, Any]]],
) -> Built:
    """A published practice's hit; `offers`: (profession, provider) of published providers."""
    blocks: dict[str, list[dict[str, Any]]] = {}
    languages: set[str] = set()
    for profession, provider in offers:
        blocks.setdefault(profession, []).append(
            {"fiche_id": provider["fiche_id"], "name": provider_display_name(provider)}
        )
        languages.update(provider["languages"])
    document: dict[str, Any] = {
        "type": PRACTICE,
        "id": practice_id,
        "name": name,
        **{key: facts.get(key, []) for key in PRACTICE_FACTS},
        "offer_blocks": [
            {
                "profession": profession,
                "providers": sorted(people, key=lambda p: (normalized(p["name"]), p["fiche_id"])),
            }
            for profession, people in sorted(blocks.items())
        ],
    }
    terms = _terms("n", [w for n in facts.get("names") or [] for w in words(n.get("name"))])
    terms |= _terms("n", words(name))
    terms |= _terms("p", [*blocks, *(facts.get("extra_offer") or [])])
    terms |= _terms("l", languages) | _location_terms(facts)
    # Found by a provider's qualification only through the block of that profession.
    terms |= _terms(
        "q",
        {
            group
            for profession, provider in offers
            for group in groups_of(
                p
                for p in provider.get("public_professions") or []
                if p.get("profession") == profession
            )
        },
    )
    return Built(
        kind=PRACTICE,
        fiche_id=practice_id,
        sort_key=normalized(name)[:380],
        document=orjson.dumps(document).decode(),
        terms=frozenset(terms),
    )
