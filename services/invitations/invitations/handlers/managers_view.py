"""invitations' own view of who manages which practice, kept from fiches.managers.v1."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.fiches import PracticeManagersChanged
from invitations.adapters.invitation_repository import InvitationRepository
from invitations.domain.practices import PracticeView


async def practice_managers_changed(session: AsyncSession, event: PracticeManagersChanged) -> None:
    """Replace the practice's managers, name and linked offers; an older event changes nothing."""
    repository = InvitationRepository(session)
    current = await repository.practice(event.practice_id)
    if current is not None and event.occurred_at < current.changed_at:
        return
    await repository.save_practice(
        PracticeView(
            practice_id=event.practice_id,
            practice_name=event.practice_name,
            manager_user_ids=frozenset(event.manager_user_ids),
            linked_professional_ids=frozenset(event.linked_professional_ids),
            changed_at=event.occurred_at,
        ),
        exists=current is not None,
    )
