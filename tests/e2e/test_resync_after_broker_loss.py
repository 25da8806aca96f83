"""After a broker lost events, a resync brings fiches back in step, and changes nothing else.

The loss is made the way it happens: registry-sync's relay handed events to a broker that
then went away before fiches consumed them (here: the outbox rows are deleted, as the relay
does once the broker has them). registry-sync's own state is up to date, so importing the
same file again publishes nothing; `reannounce_professionals` (`skaart registry resync`)
puts the stored state on the outbox again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fiches.adapters import tables as fiches_tables
from registry_sync.adapters import tables as registry_tables
from registry_sync.config import RegistrySyncSettings
from registry_sync.entrypoints.app import build_component, nrn_hasher
from registry_sync.handlers.import_snapshot import import_snapshot
from registry_sync.handlers.reannounce import reannounce_professionals
from registry_sync.simulator.demo_data import (
    follow_up_snapshot,
    generate_professionals,
    write_snapshot,
)
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.support.infrastructure import wait_for
from tests.support.platform import RunningPlatform, running_platform

pytestmark = pytest.mark.e2e

COUNT = 60
SEED = 13
NEWCOMERS = 20
LATER = "2026-11-28T06:00:00Z"


async def fiches_revisions(platform: RunningPlatform) -> dict[str, tuple[bool, int]]:
    table = fiches_tables.provider_fiches
    async with platform.fiches.runtime.sessions() as session:
        rows = await session.execute(
            sa.select(table.c.professional_id, table.c.published, table.c.revision)
        )
        return {row.professional_id: (row.published, row.revision) for row in rows}


async def fiches_inbox(platform: RunningPlatform) -> int:
    """Events fiches' in-order registry group applied (its read-ahead group, which applies
    the stops again ahead of their turn, keeps inbox rows of its own)."""
    table = fiches_tables.inbox
    async with platform.fiches.runtime.sessions() as session:
        query = (
            sa.select(sa.func.count())
            .select_from(table)
            .where(table.c.consumer == "registry-professionals")
        )
        return int(await session.scalar(query) or 0)


async def test_resync_restores_what_fiches_missed_and_a_second_one_changes_nothing(
    kafka: KafkaSettings, tmp_path: Path, database_url_factory: Callable[[str], Any]
) -> None:
    urls: dict[str, str] = {}

    async def same_databases(service: str) -> str:
        if service not in urls:
            urls[service] = await database_url_factory(service)
        return urls[service]

    everyone = list(generate_professionals(COUNT + NEWCOMERS, SEED))
    first = tmp_path / "snapshot-1.jsonl"
    write_snapshot(first, everyone[:COUNT])
    changed = list(
        follow_up_snapshot(
            everyone[:COUNT], change_percent=10, seed=SEED, new_version=LATER, total=COUNT
        )
    )
    second = tmp_path / "snapshot-2.jsonl"
    write_snapshot(second, [record for record, _ in changed] + everyone[COUNT:])
    stopped = [record for record, reason in changed if reason is not None]
    may_practise_later = [record for record, reason in changed if reason is None] + everyone[COUNT:]

    # 1. The platform runs and fiches follows the first snapshot.
    async with running_platform(kafka, tmp_path, same_databases) as platform:
        assert (await platform.import_file(first)).registered == COUNT

        async def first_published() -> bool:
            return await platform.published_total() == COUNT

        await wait_for(first_published, timeout_s=60)
        before = await fiches_revisions(platform)

    # 2. The second snapshot is imported and relayed to a broker that then loses it.
    platform_settings = PlatformSettings(data_dir=tmp_path / "data")
    settings = RegistrySyncSettings(database_url=urls["registry-sync"])
    registry = build_component(platform_settings, kafka, settings).runtime
    summary = await import_snapshot(
        second,
        sessions=registry.sessions,
        outbox=registry.outbox,
        hasher=nrn_hasher(settings, platform_settings),
        force=True,
    )
    assert summary.registered == NEWCOMERS and sum(summary.status_changes.values()) >= 6
    async with registry.sessions.begin() as session:
        await session.execute(sa.delete(registry_tables.outbox))
    await registry.engine.dispose()

    # 3. Back up: fiches still shows the stopped people and lacks the newcomers, and
    # importing the file again cannot help.
    async with running_platform(kafka, tmp_path, same_databases) as platform:
        again = await platform.import_file(second, force=True)
        assert (again.events_published, again.unchanged) == (0, COUNT + NEWCOMERS)
        assert await platform.published_total() == COUNT

        resynced = await reannounce_professionals(
            platform.registry.runtime.sessions, platform.registry.runtime.outbox
        )
        assert resynced.professionals == COUNT + NEWCOMERS

        async def caught_up() -> bool:
            return await platform.published_total() == len(may_practise_later)

        await wait_for(caught_up, timeout_s=60)
        for record in stopped:
            assert (
                await platform.fiche_of(await platform.professional_id_of(record["ssin"])) is None
            )
        for record in everyone[COUNT:]:
            fiche = await platform.fiche_of(await platform.professional_id_of(record["ssin"]))
            assert fiche is not None
        after = await fiches_revisions(platform)
        kept = {
            await platform.professional_id_of(record["ssin"])
            for record, reason in changed
            if reason is None
        }
        # Nobody whose facts fiches already held got a new revision (no spurious update).
        assert {pid: after[pid] for pid in kept} == {pid: before[pid] for pid in kept}

        # A second resync: every event is applied, and nothing changes at all.
        settled = await fiches_revisions(platform)
        inbox_before = await fiches_inbox(platform)
        second_resync = await reannounce_professionals(
            platform.registry.runtime.sessions, platform.registry.runtime.outbox
        )
        # fiches reads the professionals topic, not the identities topic.
        expected = inbox_before + second_resync.events - second_resync.professionals

        async def all_applied() -> bool:
            return await fiches_inbox(platform) == expected

        await wait_for(all_applied, timeout_s=60)
        assert await fiches_revisions(platform) == settled
        assert await platform.published_total() == len(may_practise_later)
