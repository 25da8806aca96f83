"""One transaction per write request; the outbox relay is woken after it commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fiches.adapters.practice_store import take_write_lock
from servicekit.messaging.outbox import Outbox


@dataclass
class UnitOfWork:
    """Opens write transactions (state and events commit together) and read sessions."""

    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            await take_write_lock(session)
            yield session
        self.outbox.notify_committed()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session
