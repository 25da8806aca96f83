"""invitations' own picture of a practice: its name, its managers, the offers it links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PracticeView:
    """A practice as fiches last announced it on fiches.managers.v1."""

    practice_id: str
    practice_name: str
    manager_user_ids: frozenset[str]
    linked_professional_ids: frozenset[str]
    changed_at: datetime

    def is_managed_by(self, user_id: str) -> bool:
        """Whether the user has management rights on the practice fiche."""
        return user_id in self.manager_user_ids

    def links(self, professional_id: str) -> bool:
        """Whether an offer of the professional is linked to the practice."""
        return professional_id in self.linked_professional_ids
