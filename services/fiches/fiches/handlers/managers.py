"""Management rights on a practice fiche: who manages it, granting and withdrawing.

Rights go to known users only: people identity announced as activated
(`fiches.adapters.known_users`). A manager names the person by the e-mail address they use
on the platform (matched by its keyed hash: fiches never stores the address) or by their
name; never by an internal id, which a manager has no way to check. A name that several
users share is refused with how to tell them apart (their public professions, where they
have a published provider fiche), never with their addresses.

A practice keeps at least one *real* manager: a known user. Only the team may remove the
last one (a practice left without managers is the team's to hand over).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from fiches.adapters import known_users
from fiches.adapters import practice_store as store
from fiches.adapters.practice_queries import PracticeQueries
from fiches.handlers.errors import Conflict, Invalid, NotFound
from fiches.handlers.practices import (
    load_practice,
    public_professions_of,
    require_managed,
    save_practice,
)
from fiches.handlers.unit_of_work import UnitOfWork
from servicekit.auth import Caller
from servicekit.email_lookup import email_lookup

ASK_FOR_THE_ADDRESS = (
    "Ask the person for the e-mail address they use on the Sociale Kaart and grant rights "
    "with `email` instead."
)


class AmbiguousName(Conflict):
    """Several known users carry the name a manager gave."""

    def __init__(self, name: str, candidates: list[dict[str, Any]]) -> None:
        super().__init__(
            f"{len(candidates)} users of the platform are called {name!r}: rights cannot "
            "be granted by this name alone"
        )
        self.details = {
            "code": "ambiguous_name",
            "candidates": candidates,
            "what_to_do": ASK_FOR_THE_ADDRESS,
        }


@dataclass(frozen=True)
class Grantee:
    """Whom a manager names: exactly one of an e-mail address or a name."""

    email: str | None = None
    name: str | None = None


class ManagerCommands:
    """Listing, granting and withdrawing management rights."""

    def __init__(self, uow: UnitOfWork, lookup_key: str) -> None:
        self._uow = uow
        self._lookup_key = lookup_key

    async def managers(self, caller: Caller, practice_id: str) -> list[dict[str, Any]]:
        """The managers in the order they got their rights, with their names (None if
        fiches does not know the user)."""
        async with self._uow.read() as session:
            manager_ids = await require_managed(session, practice_id, caller)
            return await PracticeQueries(session).managers(manager_ids)

    async def grant(
        self, caller: Caller, practice_id: str, grantee: Grantee
    ) -> list[dict[str, Any]]:
        async with self._uow.write() as session:
            fiche = await load_practice(session, practice_id)
            fiche.require_manager(caller)
            user = await self._find(session, grantee)
            fiche.grant(user.user_id, caller.user_id, store.utcnow())
            await save_practice(session, self._uow.outbox, fiche)
            return await PracticeQueries(session).managers(fiche.manager_ids)

    async def _find(self, session: AsyncSession, grantee: Grantee) -> Any:
        if grantee.email is not None:
            try:
                address = validate_email(grantee.email, check_deliverability=False).normalized
            except EmailNotValidError as error:
                raise Invalid(
                    f"this is not an e-mail address: {error}", ("body", "email")
                ) from error
            user = await known_users.by_email_lookup(
                session, email_lookup(address, self._lookup_key)
            )
            if user is None:
                raise NotFound(
                    "no activated user of the platform uses this e-mail address: ask the "
                    "person to log in once and activate their profile, or to give you the "
                    "address they use here"
                )
            return user
        assert grantee.name is not None
        found = await known_users.by_name(session, grantee.name)
        if not found:
            raise NotFound(
                f"no activated user of the platform is called {grantee.name!r}: check the "
                "spelling (first name and surname, as on their identity card), or "
                + ASK_FOR_THE_ADDRESS[0].lower()
                + ASK_FOR_THE_ADDRESS[1:]
            )
        if len(found) > 1:
            raise AmbiguousName(grantee.name, [await _candidate(session, u) for u in found])
        return found[0]

    async def withdraw(
        self, caller: Caller, practice_id: str, user_id: str
    ) -> list[dict[str, Any]]:
        async with self._uow.write() as session:
            fiche = await load_practice(session, practice_id)
            known = await known_users.names(session, fiche.manager_ids)
            fiche.withdraw(caller, user_id, known, store.utcnow())
            await save_practice(session, self._uow.outbox, fiche)
            return await PracticeQueries(session).managers(fiche.manager_ids)


async def _candidate(session: AsyncSession, user: Any) -> dict[str, Any]:
    """How a manager can tell one namesake from another without their address."""
    if user.professional_id:
        provider = await store.provider_by_professional(session, user.professional_id)
        if provider is not None and provider.published:
            return {
                "kind": "professional",
                "professions": sorted(public_professions_of(provider)),
            }
        return {"kind": "professional"}
    return {"kind": "citizen"}
