"""The demo people of the development provider, matching monolithic mode's demo registry.

Read-only: derived from registry-sync's seeded demo generator with the seed and size
`skaart up` uses, so the national register numbers here are those of the demo snapshot
(fiction, with valid check digits). Development only: imported lazily by the provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

#: `skaart up`'s seed and default size (skaart/up.py DEMO_SEED and `--demo-count`).
DEMO_SEED = 20260911
DEMO_COUNT = 300
#: A number no demo professional has: a well-formed national register number
#: (1 January 1990, sequence 998) for the demo citizen.
_CITIZEN_FIRST9 = "900101998"
#: RIZIV qualification codes of a general practitioner (accredited, or in training).
GP_QUALIFICATIONS = ("003", "004", "005")


@dataclass(frozen=True)
class DemoPerson:
    """Someone the development provider can log in."""

    key: str
    given_name: str
    surname: str
    nrn: str
    language: str
    description: str
    index: int | None = None
    """Position in the demo population (the simulated source's person number)."""


def _ssin(first9: str) -> str:
    return first9 + f"{97 - int(first9) % 97:02d}"


def _label(record: dict[str, object]) -> str:
    professions = record.get("professions")
    assert isinstance(professions, list)
    return " + ".join(str(p["profession"]) for p in professions)


def _person(index: int, record: dict[str, object], description: str) -> DemoPerson:
    return DemoPerson(
        key=f"professional-{index}",
        given_name=str(record["first_name"]),
        surname=str(record["last_name"]),
        nrn=str(record["ssin"]),
        language=str(record.get("language") or "nl"),
        description=description,
        index=index,
    )


@cache
def demo_people(count: int = DEMO_COUNT, seed: int = DEMO_SEED) -> tuple[DemoPerson, ...]:
    """Professionals of several professions, one who gets a practice ban, one citizen."""
    from registry_sync.simulator.demo_data import follow_up_snapshot, generate_professionals

    records = list(generate_professionals(count, seed))
    # The follow-up snapshot of `skaart up` bans some people from practising: pick one.
    changed = follow_up_snapshot(
        iter(records), change_percent=5, seed=seed, new_version="2026-11-28T06:00:00Z", total=count
    )
    banned = next(index for index, (_, reason) in enumerate(changed) if reason == "practice_ban")
    people: list[DemoPerson] = []
    seen: set[str] = set()
    for index, record in enumerate(records[:80]):
        label = _label(record)
        if label in seen or index == banned or len(people) >= 8:
            continue
        seen.add(label)
        people.append(_person(index, record, f"{label} (demo person {index}), may practise"))
    # A general practitioner (huisarts: a physician with a GP qualification), whom the
    # guide's stories and a citizen's "huisarts" search need beside any other physician.
    gp = next(
        index
        for index, record in enumerate(records)
        if index != banned
        and not any(p.index == index for p in people)
        and any(
            p["profession"] == "physician" and p.get("qualification_code") in GP_QUALIFICATIONS
            for p in record["professions"]
        )
    )
    people.append(
        _person(
            gp, records[gp], f"physician, general practitioner (demo person {gp}), may practise"
        )
    )
    people.append(
        _person(
            banned,
            records[banned],
            f"{_label(records[banned])} (demo person {banned}): a practice ban once the "
            "follow-up snapshot is imported (skaart registry import "
            ".skaart/demo/snapshot-2-status-changes.jsonl) or after "
            f"POST /dev/source/simulate/stop/{banned}?reason=practice_ban",
        )
    )
    citizen = _ssin(_CITIZEN_FIRST9)
    if any(record["ssin"] == citizen for record in records):
        raise RuntimeError("the demo citizen's number belongs to a demo professional")
    people.append(
        DemoPerson(
            key="citizen",
            given_name="Lotte",
            surname="Burger",
            nrn=citizen,
            language="nl",
            description="a citizen, not in the register of professionals",
        )
    )
    return tuple(people)
