"""Holding one consumer group behind a backlog, on a real broker.

The read-ahead tests need the in-order group to stand still at a batch holding a queued
event of one aggregate (as a national import's backlog would hold it), while the
read-ahead group of the same topic goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from contracts.base import Event
from servicekit.messaging.inbox import InboxConsumer


def hold_group_at(
    monkeypatch: pytest.MonkeyPatch,
    *,
    group: str,
    event_type: type[Event],
    key: str,
    gate: asyncio.Event,
) -> None:
    """The consumer `group` waits for `gate` before any batch holding an `event_type`
    record keyed `key`; every other consumer, and every other batch, goes on."""
    handle_batch = InboxConsumer.handle_batch
    wanted_key = key.encode()
    wanted_type = ("ce_type", event_type.event_type.encode())

    async def held(self: InboxConsumer, records: Sequence[Any]) -> None:
        queued = any(
            record.key == wanted_key and wanted_type in list(record.headers or ())
            for record in records
        )
        if self.name == group and queued:
            await gate.wait()
        await handle_batch(self, records)

    monkeypatch.setattr(InboxConsumer, "handle_batch", held)
