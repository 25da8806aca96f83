"""One person's change as the source states it, validated and keyed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from registry_sync.domain.changes import ProfessionalFacts
from registry_sync.domain.source_record import SourceProfessional


def facts_of(record: SourceProfessional) -> ProfessionalFacts:
    """The facts registry-sync keeps of a source record."""
    return ProfessionalFacts(
        last_name=record.last_name,
        first_name=record.first_name,
        language=record.language,
        practice_ban=record.practice_ban,
        deceased=record.deceased,
        professions=tuple(p.to_record() for p in record.professions),
    )


@dataclass(slots=True)
class PersonChange:
    """What the source now states of one person, validated and keyed (no NRN in clear)."""

    nrn_hash: str
    version: datetime
    facts: ProfessionalFacts | None
    """None when the source says the person left (`removed`)."""
    line_digest: bytes | None = None
    """Keyed digest of the snapshot line it came from; None for delta-feed changes."""
    stored_facts: dict[str, Any] | None = field(default=None, repr=False)
    """`facts.to_json()`, when already computed."""

    @classmethod
    def of(
        cls, record: SourceProfessional, nrn_hash: str, line_digest: bytes | None = None
    ) -> PersonChange:
        """The change a validated record states."""
        facts = None if record.removed else facts_of(record)
        return cls(nrn_hash, record.version, facts, line_digest)

    def facts_json(self) -> dict[str, Any]:
        """The storable facts (computed once)."""
        assert self.facts is not None
        if self.stored_facts is None:
            self.stored_facts = self.facts.to_json()
        return self.stored_facts
