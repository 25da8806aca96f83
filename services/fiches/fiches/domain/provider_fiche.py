"""The provider fiche: one healthcare professional in the directory.

Authentic-source fields (official names, professions, RIZIV numbers, statuses) change
only through registry events. Depublication follows the source (DOMAIN.md flow 5):
a practice ban or death always depublishes; a stopped visa or RIZIV number depublishes
once no profession remains that may be practised. Reactivation never republishes by
itself: the provider or the team decides.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts.base import Event
from contracts.events.fiches import (
    DepublicationReason,
    ProviderFicheDepublished,
    ProviderFichePublished,
    ProviderFicheUpdated,
    PublicProfession,
)
from contracts.events.registry import (
    STOP_REASONS,
    ProfessionalRegistered,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
    ProfessionRecord,
    StatusChangeReason,
)
from fiches.domain.contact_data import changed_fields

_PERSON_LEVEL_STOPS = frozenset({StatusChangeReason.PRACTICE_BAN, StatusChangeReason.DECEASED})


def takes_off_the_map(event: ProfessionalStatusChanged) -> bool:
    """Whether this status change depublishes (DOMAIN.md flow 5): a practice ban or death
    always; a stopped visa or RIZIV number once no profession may be practised."""
    if event.reason not in STOP_REASONS:
        return False
    return event.reason in _PERSON_LEVEL_STOPS or not event.may_practise


class PublicationRefused(Exception):
    """A publication the rules do not allow now (the message says why)."""


def display_name(preferred_name: str | None, official_first: str, official_last: str) -> str:
    """The name a provider goes by on the map (DOMAIN.md: Albert Segers goes by Bert Segers).

    The preferred name is the whole name when it has several words ("Bert Segers"); a
    single word is the first name they go by, so the surname is kept ("Bert" → "Bert
    Segers"). Without one, the official name.
    """
    preferred = " ".join((preferred_name or "").split())
    if not preferred:
        return f"{official_first} {official_last}"
    if len(preferred.split(" ")) == 1:
        return f"{preferred} {official_last}"
    return preferred


@dataclass
class ProviderFiche:
    """A provider fiche and the authentic facts it shows."""

    fiche_id: str
    professional_id: str
    official_last_name: str
    official_first_name: str
    language: str | None
    professions: tuple[ProfessionRecord, ...]
    practice_ban: bool
    deceased: bool
    may_practise: bool
    registry_version: datetime
    published: bool = False
    revision: int = 0
    depublication_reason: DepublicationReason | None = None
    own_published: dict[str, Any] | None = None
    """The provider's own fields as last published (preferred name, languages, ...)."""
    own_draft: dict[str, Any] | None = None
    """The edit version of the provider's own fields (saved, not yet published)."""
    own_version: int = 0
    events: list[Event] = field(default_factory=list)
    own_changed: bool = field(default=False, compare=False)
    """Whether the own fields changed since loading (registry events never change them,
    so saving after one leaves a concurrent edit of the provider's own fields alone)."""
    _public_professions: tuple[PublicProfession, ...] | None = field(
        default=None, compare=False, repr=False
    )

    @classmethod
    def register(
        cls, event: ProfessionalRegistered, *, now: datetime | None = None
    ) -> ProviderFiche:
        """A new fiche for a new professional; published when they may practise."""
        fiche = cls(
            fiche_id=str(uuid.uuid4()),
            professional_id=event.professional_id,
            official_last_name=event.last_name,
            official_first_name=event.first_name,
            language=event.language,
            professions=event.professions,
            practice_ban=event.practice_ban,
            deceased=event.deceased,
            may_practise=event.may_practise,
            registry_version=event.source_version,
        )
        if event.may_practise:
            fiche._publish(now or datetime.now(UTC))
        return fiche

    def _is_stale(self, version: datetime) -> bool:
        return version < self.registry_version

    def apply_update(self, event: ProfessionalUpdated, *, now: datetime | None = None) -> None:
        """New authentic facts; a published fiche publishes an update."""
        if self._is_stale(event.source_version):
            return
        self.registry_version = event.source_version
        if self._authentic_facts() == (
            event.last_name,
            event.first_name,
            event.language,
            tuple(event.professions),
            event.practice_ban,
            event.deceased,
            event.may_practise,
        ):
            # The same facts again (registry-sync announcing its state anew after a broker
            # lost its topics): nothing changed, nothing to publish.
            return
        self.official_last_name = event.last_name
        self.official_first_name = event.first_name
        self.language = event.language
        self.professions = event.professions
        self._public_professions = None
        self.practice_ban = event.practice_ban
        self.deceased = event.deceased
        self.may_practise = event.may_practise
        if self.published:
            self.revision += 1
            self.events.append(ProviderFicheUpdated(**self._public_facts(now)))

    def _authentic_facts(self) -> tuple[object, ...]:
        return (
            self.official_last_name,
            self.official_first_name,
            self.language,
            tuple(self.professions),
            self.practice_ban,
            self.deceased,
            self.may_practise,
        )

    def apply_status_change(
        self, event: ProfessionalStatusChanged, *, now: datetime | None = None
    ) -> None:
        """Depublish on a stop the source reports; never republish on reactivation."""
        if self._is_stale(event.source_version):
            return
        self.may_practise = event.may_practise
        self.registry_version = event.source_version
        if takes_off_the_map(event):
            self.depublish(DepublicationReason(event.reason.value), now=now)

    def stop_ahead_of_turn(
        self,
        event: ProfessionalStatusChanged | ProfessionalRemoved,
        *,
        now: datetime | None = None,
    ) -> bool:
        """A stop read ahead of the registry events queued before it: off the map now.

        Only the publication changes (and the fiche may not be published again meanwhile).
        The facts and the registry version stay for the in-order path, which applies every
        event in turn, this one included, and then finds the fiche already depublished.
        An event this fiche has already seen, or an older one, changes nothing. Returns
        whether anything changed (only `may_practise` and the publication can).
        """
        if event.source_version <= self.registry_version:
            return False
        if isinstance(event, ProfessionalRemoved):
            reason = DepublicationReason.NO_LONGER_IN_SOURCE
        elif takes_off_the_map(event):
            reason = DepublicationReason(event.reason.value)
        else:
            return False
        changed = self.may_practise or self.published
        self.may_practise = False
        self.depublish(reason, now=now)
        return changed

    def apply_removal(self, event: ProfessionalRemoved, *, now: datetime | None = None) -> None:
        """The person left the authentic source: depublish, reason recorded."""
        if self._is_stale(event.source_version):
            return
        self.may_practise = False
        self.registry_version = event.source_version
        self.depublish(DepublicationReason.NO_LONGER_IN_SOURCE, now=now)

    def depublish(self, reason: DepublicationReason, *, now: datetime | None = None) -> None:
        """Take the fiche out of every public read."""
        if not self.published:
            return
        self.published = False
        self.depublication_reason = reason
        self.events.append(
            ProviderFicheDepublished(
                fiche_id=self.fiche_id,
                professional_id=self.professional_id,
                reason=reason,
                occurred_at=now or datetime.now(UTC),
            )
        )

    def publish_own(
        self, own: dict[str, Any], *, by_team: bool, now: datetime | None = None
    ) -> None:
        """Publish the provider's own fields: republishes a fiche the source allows again.

        Raises PublicationRefused when the source does not allow the person to practise,
        or when the team removed the fiche and the caller is not the team.
        """
        if not self.may_practise or self.practice_ban or self.deceased:
            raise PublicationRefused(
                "the authentic source does not allow this person to practise now (visa, "
                "RIZIV number, practice ban or death); the fiche can be published again "
                "once the source says so"
            )
        if (
            not self.published
            and self.depublication_reason is DepublicationReason.REMOVAL_REQUEST
            and not by_team
        ):
            raise PublicationRefused(
                "the editorial team removed this fiche after a removal request; ask the team "
                "to publish it again"
            )
        self.own_published = own
        self.own_changed = True
        moment = now or datetime.now(UTC)
        if self.published:
            self.revision += 1
            self.events.append(ProviderFicheUpdated(**self._public_facts(moment)))
        else:
            self._publish(moment)

    def save_own(self, own: dict[str, Any]) -> list[str]:
        """Save the edit version of the own fields; returns the fields that changed."""
        changed = changed_fields(self.own_draft, own)
        if changed:
            self.own_draft = own
            self.own_version += 1
            self.own_changed = True
        return changed

    def restore_own(self, snapshot: dict[str, Any]) -> list[str]:
        """Make an earlier edit version the current one (a new version, even if equal)."""
        changed = changed_fields(self.own_draft, snapshot)
        self.own_draft = snapshot
        self.own_version += 1
        self.own_changed = True
        return changed

    def public_professions(self) -> tuple[PublicProfession, ...]:
        """The professions the public sees: those that may be practised.

        Computed once per set of professions: an event reads them for its published
        event and again for the stored profession filter.
        """
        if self._public_professions is None:
            self._public_professions = tuple(
                PublicProfession.model_construct(
                    profession=p.profession,
                    riziv_number=p.riziv_number,
                    qualification_code=p.qualification_code,
                    convention=p.convention,
                    diplomas=p.diplomas,
                )
                for p in self.professions
                if p.may_practise()
            )
        return self._public_professions

    def _public_facts(self, now: datetime | None) -> dict[str, object]:
        own = self.own_published or {}
        return {
            "preferred_name": own.get("preferred_name"),
            "languages": tuple(own.get("languages", ())),
            "description": own.get("description"),
            "fiche_id": self.fiche_id,
            "professional_id": self.professional_id,
            "official_last_name": self.official_last_name,
            "official_first_name": self.official_first_name,
            "professions": self.public_professions(),
            "revision": self.revision,
            "occurred_at": now or datetime.now(UTC),
        }

    def _publish(self, now: datetime) -> None:
        self.published = True
        self.depublication_reason = None
        self.revision += 1
        self.events.append(ProviderFichePublished(**self._public_facts(now)))
