"""The foundation slice end to end on a real broker: import → published → stops → depublished."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from registry_sync.simulator.demo_data import (
    follow_up_snapshot,
    generate_professionals,
    write_snapshot,
)
from servicekit.logging import JsonFormatter
from servicekit.settings import KafkaSettings
from tests.support.infrastructure import wait_for
from tests.support.platform import running_platform
from tests.support.problems import problem_of

pytestmark = pytest.mark.e2e

COUNT = 200
SEED = 7


async def test_status_snapshot_depublishes_exactly_the_stopped_professionals(
    kafka: KafkaSettings, tmp_path: Path, database_url_factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    first = tmp_path / "snapshot-1.jsonl"
    write_snapshot(first, generate_professionals(COUNT, SEED))
    changed = list(
        follow_up_snapshot(
            generate_professionals(COUNT, SEED),
            change_percent=10,
            seed=SEED,
            new_version="2026-11-28T06:00:00Z",
            total=COUNT,
        )
    )
    second = tmp_path / "snapshot-2.jsonl"
    write_snapshot(second, (record for record, _ in changed))
    stopped = [(record, reason) for record, reason in changed if reason is not None]
    assert len(stopped) == COUNT // 10
    assert {reason for _, reason in stopped} == {
        "visa_inactive",
        "riziv_stopped",
        "practice_ban",
        "deceased",
    }

    async with running_platform(kafka, tmp_path, database_url_factory) as platform:
        summary = await platform.import_file(first)
        assert summary.registered == COUNT

        async def all_published() -> bool:
            return await platform.published_total() == COUNT

        await wait_for(all_published, timeout_s=60)

        async def providers_in_search() -> int:
            response = await platform.http.get(
                "/api/fiches/search", params={"type": "provider", "limit": COUNT}
            )
            response.raise_for_status()
            return len(response.json()["items"])

        async def search_settled() -> bool:
            return await providers_in_search() == COUNT

        # The search read model catches up on the first import's publications; the timed
        # part below starts from a settled platform.
        await wait_for(search_settled, timeout_s=60, interval_s=0.05)

        stopped_ids = {await platform.professional_id_of(r["ssin"]) for r, _ in stopped}
        kept_record = next(record for record, reason in changed if reason is None)
        kept_id = await platform.professional_id_of(kept_record["ssin"])
        one_stopped = await platform.fiche_of(next(iter(stopped_ids)))
        assert one_stopped is not None

        # 10% stop at once: more than the mass-removal guard allows, so the operator forces.
        summary = await platform.import_file(second, force=True)
        assert sum(summary.status_changes.values()) >= len(stopped)

        async def depublished() -> bool:
            return await platform.published_total() == COUNT - len(stopped)

        async def gone_from_search() -> bool:
            return await providers_in_search() == COUNT - len(stopped)

        # Off the map means off the public list and out of search. How fast is measured
        # in bench/pipeline.py (depublication latency); a test on a loaded machine only
        # waits, with a deadline generous enough never to fail a correct platform.
        await wait_for(depublished, timeout_s=60)
        await wait_for(gone_from_search, timeout_s=60)

        for professional_id in stopped_ids:
            assert await platform.fiche_of(professional_id) is None
        assert await platform.fiche_of(kept_id) is not None
        response = await platform.http.get(f"/api/fiches/providers/{one_stopped['fiche_id']}")
        assert response.status_code == 404
        assert "no published provider fiche" in problem_of(response)["detail"]

    # No national register number in any log line of the whole run, formatted or not.
    ssins = [record["ssin"] for record, _ in changed]
    formatter = JsonFormatter()
    logged = "\n".join(
        f"{record.getMessage()} {record.__dict__} {formatter.format(record)}"
        for record in caplog.records
    )
    assert caplog.records, "the run logged nothing: the check would prove nothing"
    assert not [ssin for ssin in ssins if ssin in logged]


async def test_reimporting_the_same_snapshot_publishes_nothing(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, generate_professionals(50, SEED))
    async with running_platform(kafka, tmp_path) as platform:
        first = await platform.import_file(snapshot)
        second = await platform.import_file(snapshot)
    assert first.events_published == 100  # registered + identity pairing per person
    assert second.events_published == 0
    assert second.unchanged == 50
