"""The practice fiche: a place where care is given (solo or group practice), and its rules.

`PracticeFiche` holds the edit version and the published version of the practice's data,
the offer block (which provider offers which profession there, in each version), its
managers and the history entries a change adds. Every change goes through a method that
checks who may make it and records the events agencies and invitations are told about
(`events`); the repository stores the fiche, the use case hands the events to the outbox.

A practice fiche is never depublished automatically, whatever happens to the providers
linked to it (it may be a group practice, or be taken over): no method reacts to a
provider's depublication. A depublished provider drops out of the public offer blocks
(`public_offer_blocks`) because the link knows whether its provider is published; the
link itself stays, so a republished provider comes back without anyone relinking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.base import Event
from contracts.events.fiches import (
    OfferLinked,
    OfferUnlinked,
    OfferUnlinkReason,
    PracticeDepublicationReason,
    PracticeFicheDepublished,
    PracticeManagersChanged,
)
from fiches.domain.contact_data import changed_fields
from fiches.domain.practice_data import (
    PracticeChanges,
    PracticeData,
    preferred_name,
    public_event,
    stored,
)
from fiches.domain.practice_rights import Actor, check_own_offers, may_restore, require_manager
from fiches.domain.refusals import Conflict, NotFound

__all__ = [
    "HistoryEntry",
    "LinkedProvider",
    "Manager",
    "OfferLink",
    "PracticeChanges",
    "PracticeData",
    "PracticeFiche",
    "preferred_name",
    "public_event",
    "stored",
]

PRACTICE = "practice"


@dataclass(frozen=True)
class LinkedProvider:
    """The provider fiche whose offer is linked (as the directory knows it now)."""

    fiche_id: str
    professional_id: str
    published: bool = True


@dataclass
class OfferLink:
    """One offer block entry: a provider's profession at the practice, in each version."""

    professional_id: str
    profession: str
    provider_fiche_id: str
    in_edit: bool
    in_published: bool
    changed_by: str
    updated_at: datetime
    #: Whether the linked provider's own fiche is published (the directory's state).
    provider_published: bool = True

    @property
    def key(self) -> tuple[str, str]:
        return (self.professional_id, self.profession)

    @property
    def pending(self) -> bool:
        """The edit version differs from the published one for this entry."""
        return self.in_edit != self.in_published


@dataclass(frozen=True)
class Manager:
    user_id: str
    granted_by: str
    granted_at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    """One change: who, when, which fields, and the edit version after it."""

    version: int
    action: str
    user_id: str
    at: datetime
    changed_fields: tuple[str, ...]
    snapshot: dict[str, Any]


@dataclass
class PracticeFiche:
    """A practice fiche with its offer block, managers and the changes not yet stored."""

    practice_id: str
    draft: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime
    draft_version: int = 1
    published_data: dict[str, Any] | None = None
    published: bool = False
    revision: int = 0
    removed: bool = False
    offers: list[OfferLink] = field(default_factory=list)
    managers: list[Manager] = field(default_factory=list)
    #: The version number of the newest history entry (stored or new).
    history_version: int = 0
    new_history: list[HistoryEntry] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @classmethod
    def create(
        cls, practice_id: str, data: PracticeData, creator: Actor, now: datetime
    ) -> PracticeFiche:
        """A new, unpublished practice fiche; its creator is its first manager."""
        draft = stored(data)
        fiche = cls(
            practice_id=practice_id,
            draft=draft,
            created_by=creator.user_id,
            created_at=now,
            updated_at=now,
            managers=[Manager(creator.user_id, creator.user_id, now)],
        )
        fiche._record("create", creator.user_id, changed_fields(None, draft), now)
        return fiche

    # --- what the fiche is ---------------------------------------------------------

    @property
    def name(self) -> str:
        """The preferred organisation name of the edit version."""
        return preferred_name(self.draft)

    @property
    def manager_ids(self) -> list[str]:
        return [manager.user_id for manager in self.managers]

    def manages(self, user_id: str) -> bool:
        return any(manager.user_id == user_id for manager in self.managers)

    def offers_in_order(self) -> list[OfferLink]:
        return sorted(self.offers, key=lambda offer: (offer.profession, offer.professional_id))

    def unpublished_changes(self) -> bool:
        return self.published_data != self.draft or any(o.pending for o in self.offers)

    def public_offer_blocks(self) -> dict[str, list[str]]:
        """Profession -> provider fiche ids the public sees: published links of providers
        whose own fiche is published. The practice stays published either way."""
        blocks: dict[str, list[str]] = {}
        for offer in self.offers_in_order():
            if offer.in_published and offer.provider_published:
                blocks.setdefault(offer.profession, []).append(offer.provider_fiche_id)
        return blocks

    def take_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    # --- who may ---------------------------------------------------------------------

    def require_manager(self, actor: Actor) -> None:
        """Deny by default: its managers and the editorial team, nobody else."""
        require_manager(actor, self.practice_id, self.manager_ids)

    def check_own_offers(self, actor: Actor, professions: Sequence[str]) -> None:
        """A manager who is a professional may tick their own offers, and only those."""
        check_own_offers(actor, self.practice_id, self.manager_ids, professions)

    # --- the edit version and publishing ----------------------------------------------

    def save(self, actor: Actor, data: PracticeData, now: datetime) -> list[str]:
        """Save the edit version; the changed field names (nothing stored if none)."""
        self.require_manager(actor)
        draft = stored(data)
        changed = changed_fields(self.draft, draft)
        if changed:
            self._write_draft(draft, actor.user_id, "save", changed, now)
        return changed

    def apply_changes(
        self, changes: dict[str, Any], user_id: str, action: str, now: datetime
    ) -> list[str]:
        """Merge a proposal's changes into the edit version, validated as a whole
        (pydantic's ValidationError when the result is not a valid practice)."""
        draft = stored(PracticeData.model_validate({**self.draft, **changes}))
        changed = changed_fields(self.draft, draft)
        if changed:
            self._write_draft(draft, user_id, action, changed, now)
        return changed

    def restore(
        self, actor: Actor, version: int, snapshot: dict[str, Any] | None, now: datetime
    ) -> list[str]:
        """Put an earlier version back into the edit version (not published)."""
        may_restore(actor)
        if snapshot is None:
            raise NotFound(f"practice fiche {self.practice_id} has no version {version}")
        draft = dict(snapshot)
        changed = changed_fields(self.draft, draft)
        self._write_draft(draft, actor.user_id, f"restore:{version}", changed, now)
        return changed

    def _write_draft(
        self,
        draft: dict[str, Any],
        user_id: str,
        action: str,
        changed: Sequence[str],
        now: datetime,
    ) -> None:
        name_before = self.name
        self.draft = draft
        self.draft_version += 1
        self.updated_at = now
        self._record(action, user_id, changed, now)
        if self.name != name_before:
            self.announce_managers(now)

    def publish(self, actor: Actor, now: datetime) -> list[str]:
        """Make the edit version (data and offer block) the published version."""
        self.require_manager(actor)
        return self.publish_as(actor.user_id, now)

    def publish_as(self, user_id: str, now: datetime) -> list[str]:
        """Publish on behalf of `user_id` (whose right the caller checked)."""
        changed = changed_fields(self.published_data, self.draft)
        first = not self.published
        self.revision += 1
        self.published_data = dict(self.draft)
        self.published = True
        self.updated_at = now
        self.events.append(
            public_event(
                self.draft,
                practice_id=self.practice_id,
                revision=self.revision,
                first=first,
                now=now,
            )
        )
        if self._publish_offers(now):
            changed = sorted({*changed, "offers"})
        self._record("publish", user_id, changed, now)
        return changed

    def remove(self, user_id: str, now: datetime) -> None:
        """The team approved its removal: depublished, and its offers out of public view."""
        events: list[Event] = []
        if self.published:
            events.append(
                PracticeFicheDepublished(
                    practice_id=self.practice_id,
                    reason=PracticeDepublicationReason.REMOVAL_REQUEST,
                    occurred_at=now,
                )
            )
            events.extend(
                OfferUnlinked(
                    **self._offer_facts(offer, now), reason=OfferUnlinkReason.PRACTICE_REMOVED
                )
                for offer in self.offers_in_order()
                if offer.in_published
            )
        for offer in self.offers:
            offer.in_published = False
        self.published = False
        self.removed = True
        self.updated_at = now
        self._record("removed", user_id, ["published"], now)
        self.events.extend(events)

    # --- the offer block -------------------------------------------------------------

    def link_offers(
        self,
        provider: LinkedProvider,
        professions: Sequence[str],
        *,
        user_id: str,
        action: str,
        now: datetime,
        publish: bool,
    ) -> list[str]:
        """Link a provider's offers in the edit version (publishing just those if asked)."""
        linked = [
            profession
            for profession in professions
            if self._set_offer(provider, profession, in_edit=True, user_id=user_id, now=now)
        ]
        if publish:
            self._publish_offers(
                now, professional_id=provider.professional_id, professions=professions
            )
        if linked:
            self._record(action, user_id, ["offers"], now)
            self.announce_managers(now)
        return linked

    def remove_offer(
        self, actor: Actor, professional_id: str, profession: str, now: datetime, publish: bool
    ) -> None:
        """A manager (or the team) takes an offer off the offer block."""
        self.require_manager(actor)
        self.unlink(professional_id, profession, actor.user_id, now, publish)

    def unlink(
        self, professional_id: str, profession: str, user_id: str, now: datetime, publish: bool
    ) -> None:
        """Take an offer out of the edit version (and publish that if asked)."""
        provider = LinkedProvider(fiche_id="", professional_id=professional_id)
        changed = self._set_offer(provider, profession, in_edit=False, user_id=user_id, now=now)
        if not changed and not publish:
            raise NotFound(
                f"no {profession} offer of provider {professional_id} on practice "
                f"{self.practice_id}"
            )
        if publish:
            self._publish_offers(now, professional_id=professional_id, professions=[profession])
        if changed:
            self._record("unlink_offer", user_id, ["offers"], now)
            self.announce_managers(now)

    def linked_professions(self, professional_id: str) -> set[str]:
        """Professions of this provider linked in the edit version."""
        return {
            o.profession for o in self.offers if o.professional_id == professional_id and o.in_edit
        }

    def _set_offer(
        self,
        provider: LinkedProvider,
        profession: str,
        *,
        in_edit: bool,
        user_id: str,
        now: datetime,
    ) -> bool:
        key = (provider.professional_id, profession)
        existing = next((offer for offer in self.offers if offer.key == key), None)
        if existing is None:
            if in_edit:
                self.offers.append(
                    OfferLink(
                        professional_id=provider.professional_id,
                        profession=profession,
                        provider_fiche_id=provider.fiche_id,
                        in_edit=True,
                        in_published=False,
                        changed_by=user_id,
                        updated_at=now,
                        provider_published=provider.published,
                    )
                )
            return in_edit
        if existing.in_edit == in_edit:
            return False
        existing.in_edit = in_edit
        existing.changed_by = user_id
        existing.updated_at = now
        return True

    def _publish_offers(
        self,
        now: datetime,
        *,
        professional_id: str | None = None,
        professions: Iterable[str] | None = None,
    ) -> int:
        """Publish the offer block's pending entries (all, or one provider's).

        Nothing happens while the practice itself is unpublished: its offer block becomes
        public with the practice's first publication.
        """
        if not self.published:
            return 0
        wanted = set(professions) if professions is not None else None
        pending = [
            offer
            for offer in self.offers_in_order()
            if offer.pending
            and (professional_id is None or offer.professional_id == professional_id)
            and (wanted is None or offer.profession in wanted)
        ]
        for offer in pending:
            if offer.in_edit:
                offer.in_published = True
                self.events.append(OfferLinked(**self._offer_facts(offer, now)))
            else:
                self.offers.remove(offer)
                self.events.append(
                    OfferUnlinked(**self._offer_facts(offer, now), reason=OfferUnlinkReason.STOPPED)
                )
        return len(pending)

    def _offer_facts(self, offer: OfferLink, now: datetime) -> dict[str, Any]:
        return {
            "practice_id": self.practice_id,
            "provider_fiche_id": offer.provider_fiche_id,
            "professional_id": offer.professional_id,
            "profession": offer.profession,
            "occurred_at": now,
        }

    # --- managers ----------------------------------------------------------------------

    def grant(self, user_id: str, granted_by: str, now: datetime) -> None:
        """Give `user_id` management rights (the caller checked who may grant)."""
        if self.manages(user_id):
            raise Conflict(f"user {user_id} already manages this practice fiche")
        self.managers.append(Manager(user_id, granted_by, now))
        self._record("grant_rights", granted_by, ["managers"], now)
        self.announce_managers(now)

    def withdraw(
        self, actor: Actor, user_id: str, known_user_ids: Iterable[str], now: datetime
    ) -> None:
        """Withdraw one user's rights. At least one real manager (a user the platform
        knows, `known_user_ids`) stays, unless the team removes the last one."""
        self.require_manager(actor)
        if not self.manages(user_id):
            raise NotFound(f"user {user_id} does not manage this practice fiche")
        remaining = {other for other in self.manager_ids if other != user_id}
        if not remaining & set(known_user_ids) and not actor.is_team:
            raise Conflict(
                "the last manager of a practice fiche cannot be removed: grant rights to "
                "someone else first (by their e-mail address or name), or ask the "
                "editorial team"
            )
        self.managers = [manager for manager in self.managers if manager.user_id != user_id]
        self._record("withdraw_rights", actor.user_id, ["managers"], now)
        self.announce_managers(now)

    def announce_managers(self, now: datetime) -> None:
        """Tell invitations who manages the practice and whose offers are linked."""
        linked = sorted({offer.professional_id for offer in self.offers if offer.in_edit})
        self.events.append(
            PracticeManagersChanged(
                practice_id=self.practice_id,
                practice_name=self.name,
                manager_user_ids=tuple(self.manager_ids),
                linked_professional_ids=tuple(linked),
                occurred_at=now,
            )
        )

    def _record(self, action: str, user_id: str, changed: Sequence[str], now: datetime) -> None:
        self.history_version += 1
        self.new_history.append(
            HistoryEntry(
                version=self.history_version,
                action=action,
                user_id=user_id,
                at=now,
                changed_fields=tuple(changed),
                snapshot=dict(self.draft),
            )
        )
