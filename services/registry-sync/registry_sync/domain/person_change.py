"""One person's change as the source states it, validated and keyed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from registry_sync.domain.changes import ProfessionalFacts
from registry_sync.domain.source_record import SourceProfession, SourceProfessional


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


def facts_json_of(record: SourceProfessional) -> dict[str, Any]:
    """`facts_of(record).to_json()`, straight from the validated record.

    An import stores and spools this form; building the event objects first and dumping
    them again cost more than validating the line.
    """
    return {
        "last_name": record.last_name,
        "first_name": record.first_name,
        "language": record.language,
        "practice_ban": record.practice_ban,
        "deceased": record.deceased,
        "professions": [_profession_json(profession) for profession in record.professions],
    }


def _profession_json(profession: SourceProfession) -> dict[str, Any]:
    # Field for field what ProfessionRecord.model_dump(mode="json") of `to_record()` gives.
    riziv_status = profession.riziv_status if profession.riziv_number else None
    return {
        "profession": profession.profession,
        "visa_status": profession.visa_status.value,
        "riziv_number": profession.riziv_number,
        "riziv_status": riziv_status.value if riziv_status is not None else None,
        "qualification_code": profession.qualification_code,
        "convention": profession.convention.value if profession.convention else None,
        "diplomas": [
            {"title": diploma.title, "date": diploma.date.isoformat() if diploma.date else None}
            for diploma in profession.diplomas
        ],
    }


@dataclass(slots=True)
class PersonChange:
    """What the source now states of one person, validated and keyed (no NRN in clear)."""

    nrn_hash: str
    version: datetime
    stored_facts: dict[str, Any] | None
    """The facts in their stored form; None when the source says the person left."""
    line_digest: bytes | None = None
    """Keyed digest of the snapshot line it came from; None for delta-feed changes."""
    _facts: ProfessionalFacts | None = field(default=None, repr=False)

    @classmethod
    def of(
        cls, record: SourceProfessional, nrn_hash: str, line_digest: bytes | None = None
    ) -> PersonChange:
        """The change a validated record states."""
        stored = None if record.removed else facts_json_of(record)
        return cls(nrn_hash, record.version, stored, line_digest)

    @property
    def removed(self) -> bool:
        """The source says the person left."""
        return self.stored_facts is None

    def facts(self) -> ProfessionalFacts:
        """The facts as objects (built once, when first needed)."""
        if self._facts is None:
            assert self.stored_facts is not None, "a removal states no facts"
            self._facts = ProfessionalFacts.from_json(self.stored_facts)
        return self._facts
