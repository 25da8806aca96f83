"""Loading and saving provider fiches; never commits (the unit of work does)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.fiches import DepublicationReason
from contracts.events.registry import ProfessionRecord
from fiches.adapters.tables import provider_fiches
from fiches.domain.provider_fiche import ProviderFiche
from servicekit.messaging.bulk import EncodedJson, insert_rows, update_rows
from servicekit.messaging.outbox import Outbox

_SESSION_KEY = "provider_fiche_repository"
_PROFESSIONS = TypeAdapter(tuple[ProfessionRecord, ...])


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _from_row(row: Any) -> ProviderFiche:
    return ProviderFiche(
        fiche_id=row.fiche_id,
        professional_id=row.professional_id,
        official_last_name=row.official_last_name,
        official_first_name=row.official_first_name,
        language=row.language,
        professions=tuple(ProfessionRecord.model_validate(p) for p in row.professions),
        practice_ban=row.practice_ban,
        deceased=row.deceased,
        may_practise=row.may_practise,
        registry_version=_aware(row.registry_version),
        published=row.published,
        revision=row.revision,
        depublication_reason=(
            DepublicationReason(row.depublication_reason) if row.depublication_reason else None
        ),
        own_published=row.own_published,
        own_draft=row.own_draft,
        own_version=row.own_version or 0,
    )


def _to_row(fiche: ProviderFiche, now: datetime) -> dict[str, Any]:
    """The columns the authentic source and publication decide (registry events)."""
    return {
        "fiche_id": fiche.fiche_id,
        "professional_id": fiche.professional_id,
        "official_last_name": fiche.official_last_name,
        "official_first_name": fiche.official_first_name,
        "search_name": f"{fiche.official_first_name} {fiche.official_last_name}".lower(),
        "language": fiche.language,
        # Stored as the source sent them: every field of the validated records.
        "professions": EncodedJson(_PROFESSIONS.dump_json(fiche.professions).decode()),
        "profession_codes": " ".join(p.profession for p in fiche.public_professions()),
        "practice_ban": fiche.practice_ban,
        "deceased": fiche.deceased,
        "may_practise": fiche.may_practise,
        "registry_version": fiche.registry_version,
        "published": fiche.published,
        "revision": fiche.revision,
        "depublication_reason": (
            fiche.depublication_reason.value if fiche.depublication_reason else None
        ),
        "updated_at": now,
    }


def _publication_row(fiche: ProviderFiche, now: datetime) -> dict[str, Any]:
    """Only the columns a stop read ahead changes."""
    return {
        "fiche_id": fiche.fiche_id,
        "may_practise": fiche.may_practise,
        "published": fiche.published,
        "depublication_reason": (
            fiche.depublication_reason.value if fiche.depublication_reason else None
        ),
        "updated_at": now,
    }


def _with_own(row: dict[str, Any], fiche: ProviderFiche) -> dict[str, Any]:
    """The row with the provider's own fields (edit and published versions) too."""
    row["own_draft"] = fiche.own_draft
    row["own_published"] = fiche.own_published
    row["own_version"] = fiche.own_version
    return row


class ProviderFicheRepository:
    """Provider fiches of one transaction, read once and written once.

    Consumers apply hundreds of events per transaction, so the repository keeps an
    identity map: `prefetch` loads every fiche a batch touches in one query, and
    `flush` writes inserts, updates and the fiches' events in one round trip each.
    It never commits: the consumer's unit of work does.
    """

    def __init__(self, session: AsyncSession, outbox: Outbox) -> None:
        self._session = session
        self._outbox = outbox
        self._loaded: dict[str, ProviderFiche | None] = {}
        self._new: dict[str, ProviderFiche] = {}
        self._dirty: dict[str, ProviderFiche] = {}
        self._publication_only: dict[str, ProviderFiche] = {}
        self._outbox_rows: list[dict[str, object]] = []

    @classmethod
    def of(cls, session: AsyncSession, outbox: Outbox) -> ProviderFicheRepository:
        """The repository bound to this session (one per transaction)."""
        repository = session.info.get(_SESSION_KEY)
        if repository is None:
            repository = cls(session, outbox)
            session.info[_SESSION_KEY] = repository
        return repository

    async def prefetch(self, professional_ids: set[str]) -> None:
        """Load the fiches of these professionals (absent ones are remembered as absent)."""
        # Locked in one order by every transaction (sorted ids, ORDER BY), so two
        # transactions locking overlapping sets (fiches' two registry groups, during a
        # burst of stops) wait for each other instead of deadlocking.
        missing = sorted(pid for pid in professional_ids if pid not in self._loaded)
        for start in range(0, len(missing), 500):
            part = missing[start : start + 500]
            rows = await self._session.execute(
                sa.select(provider_fiches)
                .where(provider_fiches.c.professional_id.in_(part))
                .order_by(provider_fiches.c.professional_id)
                # Row locks on PostgreSQL (none on SQLite, a single writer): the write API
                # changes the same rows, and neither may overwrite the other's change.
                .with_for_update()
            )
            found = {row.professional_id: _from_row(row) for row in rows}
            for pid in part:
                self._loaded[pid] = found.get(pid)

    async def by_professional(self, professional_id: str) -> ProviderFiche | None:
        """The fiche of a professional, if any."""
        if professional_id not in self._loaded:
            await self.prefetch({professional_id})
        return self._loaded[professional_id]

    async def by_fiche_id(self, fiche_id: str) -> ProviderFiche | None:
        """A fiche by its id (locked for this transaction), if any."""
        for fiche in self._loaded.values():
            if fiche is not None and fiche.fiche_id == fiche_id:
                return fiche
        row = (
            await self._session.execute(
                sa.select(provider_fiches)
                .where(provider_fiches.c.fiche_id == fiche_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            return None
        fiche = _from_row(row)
        self._loaded[fiche.professional_id] = fiche
        return fiche

    def add(self, fiche: ProviderFiche) -> None:
        """Stage a new fiche and its events."""
        self._loaded[fiche.professional_id] = fiche
        self._new[fiche.fiche_id] = fiche
        self._take_events(fiche)

    def save(self, fiche: ProviderFiche) -> None:
        """Stage a changed fiche and its events."""
        self._publication_only.pop(fiche.fiche_id, None)
        if fiche.fiche_id not in self._new:
            self._dirty[fiche.fiche_id] = fiche
        self._take_events(fiche)

    def save_publication(self, fiche: ProviderFiche) -> None:
        """Stage a fiche of which only `may_practise` and the publication changed.

        Written without its facts and professions (a stop read ahead: a thousand of them
        at once must not rebuild a thousand rows), unless the transaction also changed
        the rest of it.
        """
        if fiche.fiche_id not in self._new and fiche.fiche_id not in self._dirty:
            self._publication_only[fiche.fiche_id] = fiche
        self._take_events(fiche)

    def _take_events(self, fiche: ProviderFiche) -> None:
        # The outbox rows are made now, in the scope of the event or request that caused
        # them, so each carries its cause's correlation id; `flush` runs after the batch.
        if fiche.events:
            now = datetime.now(UTC)
            self._outbox_rows.extend(self._outbox.row_for(e, now=now) for e in fiche.events)
            fiche.events.clear()

    async def flush(self) -> None:
        """Write what was staged, events to the outbox in the order they happened.

        A fiche whose own fields did not change is written without them, so a registry
        event never overwrites the provider's edit.
        """
        connection = await self._session.connection()
        now = datetime.now(UTC)
        if self._new:
            await insert_rows(
                connection,
                provider_fiches,
                [_with_own(_to_row(f, now), f) for f in self._new.values()],
            )
        authentic = [_to_row(f, now) for f in self._dirty.values() if not f.own_changed]
        await update_rows(connection, provider_fiches, "fiche_id", authentic)
        with_own = [_with_own(_to_row(f, now), f) for f in self._dirty.values() if f.own_changed]
        await update_rows(connection, provider_fiches, "fiche_id", with_own)
        await update_rows(
            connection,
            provider_fiches,
            "fiche_id",
            [_publication_row(f, now) for f in self._publication_only.values()],
        )
        for fiche in (*self._new.values(), *self._dirty.values()):
            fiche.own_changed = False
        await self._outbox.add_rows(self._session, self._outbox_rows)
        self._new.clear()
        self._dirty.clear()
        self._publication_only.clear()
        self._outbox_rows = []
