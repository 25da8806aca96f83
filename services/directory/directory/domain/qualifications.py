"""Groups of qualification codes a citizen searches by: a GP is a physician with a GP
qualification, not every physician.

The codes are the three-digit RIZIV/INAMI qualification (competence) codes the public
provider topics carry per profession (`qualification_code`). registry-sync documents the
same codes for the registry; the directory keeps its own copy because services never
import each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class QualificationGroup:
    """A named set of qualification codes within one profession."""

    name: str
    profession: str
    codes: frozenset[str]


QUALIFICATION_GROUPS: dict[str, QualificationGroup] = {
    group.name: group
    for group in (
        # Accredited GPs ("003", "004") and GPs in training ("005"): both see patients as
        # their GP, so a citizen looking for a huisarts finds both.
        QualificationGroup("general_practitioner", "physician", frozenset({"003", "004", "005"})),
    )
}


def groups_of(public_professions: Iterable[Mapping[str, Any]]) -> set[str]:
    """The qualification groups a provider belongs to, from their published professions
    (each `{"profession": ..., "qualification_code": ...}`)."""
    return {
        group.name
        for item in public_professions
        for group in QUALIFICATION_GROUPS.values()
        if item.get("profession") == group.profession
        and item.get("qualification_code") in group.codes
    }
