"""Who may do what on a practice fiche: its managers, the team, and professionals for
their own offers. Deny by default."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from contracts.events.fiches import RequestKind
from fiches.domain.refusals import Forbidden, Invalid

#: Kinds of request that the practice's managers may decide (the team may decide every kind).
MANAGER_DECIDES = frozenset({RequestKind.LINK, RequestKind.PROPOSAL})


class Actor(Protocol):
    """Who acts, as far as the rules care (the logged-in caller fits it)."""

    @property
    def user_id(self) -> str: ...
    @property
    def is_team(self) -> bool: ...
    @property
    def is_professional(self) -> bool: ...
    @property
    def professions(self) -> tuple[str, ...]: ...


def may_offer(actor: Actor, professions: Sequence[str], loc: str = "offers") -> None:
    """A professional may tick only offers of professions they may practise."""
    if not professions:
        return
    if not actor.is_professional:
        raise Forbidden(
            "only a healthcare professional logged in as such can link their own offer; "
            "log in as professional (zorgverlener)"
        )
    foreign = sorted(set(professions) - set(actor.professions))
    if foreign:
        raise Invalid(
            f"you can only link offers of professions you may practise "
            f"({', '.join(actor.professions) or 'none'}); not {', '.join(foreign)}",
            ("body", loc),
        )


def require_manager(actor: Actor, practice_id: str, manager_ids: Iterable[str]) -> None:
    """Deny by default: the practice's managers and the editorial team, nobody else."""
    if actor.is_team or actor.user_id in set(manager_ids):
        return
    raise Forbidden(
        "you do not manage this practice fiche. Propose a change (POST "
        f"/api/fiches/practices/{practice_id}/proposals) or ask for management rights (POST "
        f"/api/fiches/practices/{practice_id}/rights-requests)"
    )


def may_restore(actor: Actor) -> None:
    """Earlier versions are put back by the editorial team only."""
    if not actor.is_team:
        raise Forbidden("only the editorial team restores earlier versions")


def check_own_offers(
    actor: Actor, practice_id: str, manager_ids: Iterable[str], professions: Sequence[str]
) -> None:
    """A manager who is a professional may tick their own offers, and only those."""
    if actor.user_id not in set(manager_ids):
        raise Forbidden(
            "you do not manage this practice fiche: ask to link your offer (POST "
            f"/api/fiches/practices/{practice_id}/link-requests); its managers or "
            "the editorial team decide"
        )
    if not professions:
        raise Invalid("name at least one profession to link", ("body", "professions"))
    may_offer(actor, professions, "professions")
