"""The practice fiche: a place where care is given (solo or group practice).

In this first cut only the rule that concerns registry changes lives here: a practice
fiche is never depublished automatically, whatever happens to the providers linked to
it (it may be a group practice, or be taken over). Linked providers who are
depublished simply drop out of its offer blocks in public reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PracticeFiche:
    """A practice and the providers linked to its offer blocks."""

    fiche_id: str
    name: str
    published: bool = True
    linked_provider_fiche_ids: set[str] = field(default_factory=set)

    def on_provider_depublished(self, provider_fiche_id: str) -> None:
        """A linked provider left the directory: the practice stays published.

        The link itself is kept (the provider may be republished later); public reads
        of the offer blocks leave out providers whose fiche is not published.
        """
        # Deliberately no change to `published`: see the module docstring.
        _ = provider_fiche_id

    def visible_providers(self, published_provider_ids: set[str]) -> set[str]:
        """Linked providers that the public sees in the offer blocks."""
        return self.linked_provider_fiche_ids & published_provider_ids
