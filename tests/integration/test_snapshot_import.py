"""Importing registry snapshots into a real database (SQLite and PostgreSQL), without a broker.

The component is built as in production but never started: `import_snapshot` writes the
professionals and their outbox rows, which stay in the outbox because no relay runs.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.events.registry import IDENTITIES_TOPIC, PROFESSIONALS_TOPIC
from registry_sync.adapters import tables
from registry_sync.handlers.import_snapshot import (
    ImportSummary,
    SnapshotRejected,
)
from registry_sync.simulator.demo_data import (
    follow_up_snapshot,
    generate_professionals,
    write_snapshot,
)
from tests.support.registry import RegistryUnderTest, registry_opener, utc

Record = dict[str, Any]
MakeDatabase = Callable[[str], Any]

SEED = 11
FIRST_VERSION = "2026-11-27T22:00:00Z"
LATER_VERSION = "2026-11-28T06:00:00Z"
REGISTERED = "be.socialekaart.registry.ProfessionalRegistered"
IDENTIFIED = "be.socialekaart.registry.ProfessionalIdentified"


def people(count: int, version: str = FIRST_VERSION) -> list[Record]:
    return list(generate_professionals(count, SEED, version=version))


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def as_line(record: Record) -> str:
    return json.dumps(record, ensure_ascii=False)


class Registry(RegistryUnderTest):
    async def import_file(self, path: Path, **options: Any) -> ImportSummary:
        # These tests use a handful of people, where one change is more than the mass
        # removal guard allows; the guard has its own tests (test_snapshot_safety.py).
        options.setdefault("max_removal_share", 1.0)
        return await super().import_file(path, **options)


@pytest.fixture
async def registry_factory(
    tmp_path: Path, database_url_factory: MakeDatabase
) -> AsyncIterator[Callable[[str], Any]]:
    async with registry_opener(tmp_path, database_url_factory, Registry) as open_registry:
        yield open_registry


@pytest.fixture
async def registry(registry_factory: Callable[[str], Any]) -> Registry:
    return await registry_factory("registry-sync")


async def test_malformed_snapshot_is_rejected_whole_with_a_message_naming_every_bad_line(
    registry: Registry, tmp_path: Path
) -> None:
    good, broken_json, bad_riziv, no_version, unknown, good_too = people(6)
    bad_riziv["professions"][0]["riziv_number"] = (
        bad_riziv["professions"][0]["riziv_number"][:6]
        + "00"  # check digits run 01 to 97, never 00
        + bad_riziv["professions"][0]["riziv_number"][8:]
    )
    del no_version["version"]
    unknown["professions"][0]["profession"] = "osteopath"
    path = write_lines(
        tmp_path / "snapshot-2026-11-28.jsonl",
        [
            as_line(good),
            as_line(broken_json)[:-25],  # cut off: still holds the SSIN
            as_line(bad_riziv),
            as_line(no_version),
            as_line(unknown),
            as_line(good_too),
        ],
    )
    ssins = [r["ssin"] for r in (good, broken_json, bad_riziv, no_version, unknown, good_too)]

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path)

    message = str(caught.value)
    assert caught.value.invalid_lines == 4
    assert str(path) in message
    assert "line 2, field (line): not valid JSON" in message
    assert "line 3, field professions.0.riziv_number:" in message
    assert "not a valid RIZIV number" in message
    assert "line 4, field version:" in message
    assert "line 5, field professions.0.profession:" in message
    assert "osteopath" in message
    assert "line 1," not in message
    assert "line 6," not in message
    assert "nothing was imported" in message
    assert "Fix the lines named above" in message
    assert "import the file again" in message
    for ssin in ssins:
        assert ssin not in message
    assert await registry.count(tables.professionals) == 0
    assert await registry.count(tables.outbox) == 0
    # Recorded as a refused run, with its errors, for whoever looks afterwards.
    (run,) = await registry.rows(tables.sync_runs)
    assert (run.status, run.source, run.counts["rejected"]) == ("refused", str(path), 4)
    assert "line 3, field professions.0.riziv_number: not a valid RIZIV number" in "\n".join(
        run.errors
    )
    assert len(run.errors) == 4
    assert "nothing was imported" in run.error
    for ssin in ssins:
        assert ssin not in str(run)


async def test_good_snapshot_writes_two_outbox_rows_per_person_and_never_an_ssin_in_clear(
    registry: Registry, tmp_path: Path
) -> None:
    records = people(20)
    path = tmp_path / "snapshot.jsonl"
    write_snapshot(path, records)
    ssins = [r["ssin"] for r in records]
    assert len(set(ssins)) == 20

    summary = await registry.import_file(path)

    assert summary.lines == 20
    assert summary.registered == 20
    assert summary.events_published == 40
    outbox = await registry.rows(tables.outbox, tables.outbox.c.id)
    assert len(outbox) == 40
    assert Counter(row.topic for row in outbox) == {PROFESSIONALS_TOPIC: 20, IDENTITIES_TOPIC: 20}
    assert Counter(dict(row.headers)["ce_type"] for row in outbox) == {
        REGISTERED: 20,
        IDENTIFIED: 20,
    }
    stored = await registry.rows(tables.professionals, tables.professionals.c.professional_id)
    assert len(stored) == 20
    assert {row.nrn_hash for row in stored} == {registry.hasher.hash(s) for s in ssins}
    texts = [row.payload.decode() + json.dumps(row.headers) + row.message_key for row in outbox]
    texts += [json.dumps(row.facts) + row.nrn_hash + row.professional_id for row in stored]
    for text in texts:
        for ssin in ssins:
            assert ssin not in text
    runs = await registry.rows(tables.sync_runs, tables.sync_runs.c.started_at)
    assert [run.status for run in runs] == ["succeeded"]
    assert runs[0].counts["registered"] == 20


async def test_a_line_repeating_a_person_is_rejected_naming_the_first_line(
    registry: Registry, tmp_path: Path
) -> None:
    first, second = people(2)
    again = dict(first, first_name="Bert", version=LATER_VERSION)
    path = write_lines(tmp_path / "twice.jsonl", [as_line(first), as_line(second), as_line(again)])

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path)

    message = str(caught.value)
    assert "line 3, field ssin: same person as line 1" in message
    assert "nothing was imported" in message
    assert first["ssin"] not in message
    assert await registry.count(tables.professionals) == 0
    assert await registry.count(tables.outbox) == 0
    (run,) = await registry.rows(tables.sync_runs)
    assert run.status == "refused"
    assert run.errors == ["line 3, field ssin: same person as line 1"]


async def test_reimporting_the_same_file_adds_no_outbox_rows(
    registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "snapshot.jsonl"
    write_snapshot(path, people(15))
    await registry.import_file(path)
    before = await registry.state()

    summary = await registry.import_file(path)

    assert summary.registered == 0
    assert summary.updated == 0
    assert summary.unchanged == 15
    assert summary.events_published == 0
    assert await registry.count(tables.outbox) == 30
    assert await registry.state() == before
    runs = await registry.rows(tables.sync_runs, tables.sync_runs.c.started_at)
    assert [run.status for run in runs] == ["succeeded", "succeeded"]


async def test_a_gzip_compressed_snapshot_imports_the_same_as_plain_json_lines(
    registry_factory: Callable[[str], Any], tmp_path: Path
) -> None:
    records = people(25)
    plain = tmp_path / "snapshot.jsonl"
    compressed = tmp_path / "snapshot.jsonl.gz"
    write_snapshot(plain, records)
    write_snapshot(compressed, records)
    assert compressed.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(compressed.read_bytes()) == plain.read_bytes()
    from_plain = await registry_factory("from-plain")
    from_gzip = await registry_factory("from-gzip")

    plain_summary = await from_plain.import_file(plain)
    gzip_summary = await from_gzip.import_file(compressed)

    assert gzip_summary.registered == plain_summary.registered == 25
    assert gzip_summary.events_published == 50
    assert await from_gzip.state() == await from_plain.state()


async def test_a_record_older_than_the_stored_version_changes_nothing_and_counts_as_stale(
    registry: Registry, tmp_path: Path
) -> None:
    current = people(5, version=LATER_VERSION)
    await registry.import_file(write_lines(tmp_path / "now.jsonl", map(as_line, current)))
    before = await registry.state()
    older = [dict(record) for record in current]
    older[2] = dict(older[2], version=FIRST_VERSION, deceased=True, last_name="Oud")

    summary = await registry.import_file(write_lines(tmp_path / "old.jsonl", map(as_line, older)))

    assert summary.stale == 1
    assert summary.unchanged == 4
    assert summary.updated == 0
    assert summary.events_published == 0
    assert await registry.state() == before
    row = await registry.professional(current[2]["ssin"])
    assert row.facts["deceased"] is False
    assert row.facts["last_name"] == current[2]["last_name"]
    assert utc(row.source_version) == datetime.fromisoformat(LATER_VERSION)


async def test_reimporting_a_file_whose_versions_carry_a_utc_offset_is_unchanged_not_stale(
    registry: Registry, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "offset.jsonl",
        map(as_line, people(3, version="2026-11-28T07:00:00+01:00")),
    )
    await registry.import_file(path)

    again = await registry.import_file(path)

    assert again.stale == 0
    assert again.unchanged == 3


async def test_a_newer_record_written_with_a_utc_offset_is_applied(
    registry: Registry, tmp_path: Path
) -> None:
    current = people(3, version="2026-11-28T07:00:00+01:00")  # 06:00Z
    await registry.import_file(write_lines(tmp_path / "now.jsonl", map(as_line, current)))
    newer = [dict(current[0], version="2026-11-28T07:30:00+01:00", deceased=True), *current[1:]]

    summary = await registry.import_file(write_lines(tmp_path / "newer.jsonl", map(as_line, newer)))

    assert summary.stale == 0
    assert summary.updated == 1
    assert summary.status_changes == {"deceased": 1}
    row = await registry.professional(current[0]["ssin"])
    assert row.facts["deceased"] is True
    assert utc(row.source_version) == datetime(2026, 11, 28, 6, 30, tzinfo=UTC)


async def test_a_chunk_size_of_7_gives_the_same_final_state_as_the_default(
    registry_factory: Callable[[str], Any], tmp_path: Path
) -> None:
    first = tmp_path / "first.jsonl"
    write_snapshot(first, people(50))
    followed = follow_up_snapshot(
        people(50), change_percent=20, seed=SEED, new_version=LATER_VERSION, total=50
    )
    second = tmp_path / "second.jsonl"
    write_snapshot(second, (record for record, _ in followed))
    small = await registry_factory("chunks-of-7")
    default = await registry_factory("default-chunks")

    small_summaries = [
        await small.import_file(first, chunk_size=7),
        await small.import_file(second, chunk_size=7),
    ]
    default_summaries = [await default.import_file(first), await default.import_file(second)]

    for chunked, whole in zip(small_summaries, default_summaries, strict=True):
        assert chunked.counts() == whole.counts()
    assert small_summaries[0].registered == 50
    assert small_summaries[1].updated == 10
    assert sum(small_summaries[1].status_changes.values()) >= 10
    assert await small.count(tables.professionals) == 50
    assert await small.state() == await default.state()
