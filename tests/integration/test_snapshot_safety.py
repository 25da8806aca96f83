"""Snapshot imports that must not wipe the directory: the mass-removal guard, lenient runs,
removals of people missing from a full snapshot, and people who come back.

Runs on SQLite and PostgreSQL. The registry-sync component is built as in production but
never started: `import_snapshot` writes the professionals, the sync runs and the outbox,
whose rows stay put because no relay runs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.events.registry import (
    ProfessionalRegistered,
    ProfessionalRemoved,
    ProfessionalStatusChanged,
    ProfessionalUpdated,
)
from fiches.domain.provider_fiche import ProviderFiche
from registry_sync.adapters import tables
from registry_sync.handlers.import_snapshot import (
    MassRemovalRefused,
    SnapshotRejected,
)
from registry_sync.simulator.demo_data import (
    apply_stop_reason,
    follow_up_snapshot,
    generate_professionals,
)
from tests.support.registry import RegistryUnderTest, registry_opener, utc

Record = dict[str, Any]
MakeDatabase = Callable[[str], Any]

COUNT = 100
SEED = 23
FIRST_VERSION = "2026-11-27T22:00:00Z"
LATER_VERSION = "2026-11-28T06:00:00Z"
PREFIX = "be.socialekaart.registry."
REMOVED = PREFIX + "ProfessionalRemoved"
UPDATED = PREFIX + "ProfessionalUpdated"
STATUS_CHANGED = PREFIX + "ProfessionalStatusChanged"
REGISTERED = PREFIX + "ProfessionalRegistered"
NO_REMOVALS_NOTE = "removals not applied"


def people(count: int = COUNT, version: str = FIRST_VERSION, **options: Any) -> list[Record]:
    return list(generate_professionals(count, SEED, version=version, **options))


def as_line(record: Record) -> str:
    return json.dumps(record, ensure_ascii=False)


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_people(path: Path, records: Iterable[Record]) -> Path:
    return write_lines(path, map(as_line, records))


def with_bad_riziv(record: Record) -> Record:
    """The same person with a RIZIV number whose check digits cannot be right (00)."""
    professions = [dict(entry) for entry in record["professions"]]
    for entry in professions:
        number = entry.get("riziv_number")
        if number:
            entry["riziv_number"] = number[:6] + "00" + number[8:]
            return dict(record, professions=professions, version=LATER_VERSION)
    raise AssertionError("this person has no RIZIV number to break")


def with_riziv(records: list[Record]) -> Iterable[int]:
    """Indices of people with a RIZIV number on their first profession."""
    return (i for i, r in enumerate(records) if r["professions"][0].get("riziv_number"))


@dataclass(frozen=True)
class OutboxEvent:
    type: str
    key: str
    payload: dict[str, Any]


class Registry(RegistryUnderTest):
    async def all_rows(self, table: sa.Table) -> list[tuple[Any, ...]]:
        """Every row of a table, every column, in primary-key order."""
        async with self.runtime.sessions() as session:
            result = await session.execute(sa.select(table).order_by(*table.primary_key.columns))
            return [tuple(row) for row in result]

    async def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """The professionals, the outbox and the applied sync runs, complete.

        A refused import adds a run record with status `refused` and nothing else.
        """
        dumped = {
            table.name: await self.all_rows(table)
            for table in (tables.professionals, tables.outbox)
        }
        dumped["sync_runs"] = [
            row for row in await self.all_rows(tables.sync_runs) if row[2] != "refused"
        ]
        return dumped

    async def events(self) -> list[OutboxEvent]:
        async with self.runtime.sessions() as session:
            result = await session.execute(sa.select(tables.outbox).order_by(tables.outbox.c.id))
            return [
                OutboxEvent(dict(row.headers)["ce_type"], row.message_key, json.loads(row.payload))
                for row in result
            ]

    async def id_of(self, ssin: str) -> str:
        return str((await self.professional(ssin)).professional_id)

    async def removed_ids(self) -> set[str]:
        table = tables.professionals
        async with self.runtime.sessions() as session:
            result = await session.execute(
                sa.select(table.c.professional_id).where(table.c.removed)
            )
            return {str(value) for value in result.scalars()}

    async def runs(self) -> list[Any]:
        return await self.rows(tables.sync_runs, tables.sync_runs.c.started_at)


@pytest.fixture
async def registry_factory(
    tmp_path: Path, database_url_factory: MakeDatabase
) -> AsyncIterator[Callable[[str], Any]]:
    async with registry_opener(tmp_path, database_url_factory, Registry) as open_registry:
        yield open_registry


@pytest.fixture
async def registry(registry_factory: Callable[[str], Any]) -> Registry:
    return await registry_factory("registry-sync")


@pytest.fixture
async def known(registry: Registry, tmp_path: Path) -> list[Record]:
    """100 people imported into the registry: the state every scenario starts from."""
    everyone = people()
    summary = await registry.import_file(write_people(tmp_path / "first.jsonl", everyone))
    assert summary.registered == COUNT
    return everyone


def leave_out(records: list[Record], count: int) -> tuple[list[Record], list[Record]]:
    """Every tenth person left out, `count` of them: (the rest, the missing)."""
    missing_at = set(range(3, 3 + 10 * count, 10))
    assert len(missing_at) == count and max(missing_at) < len(records)
    kept = [r for i, r in enumerate(records) if i not in missing_at]
    missing = [r for i, r in enumerate(records) if i in missing_at]
    return kept, missing


# --- the mass-removal guard ------------------------------------------------------------


async def test_a_snapshot_missing_10_percent_is_refused_with_counts_and_changes_nothing(
    registry: Registry, known: list[Record], tmp_path: Path
) -> None:
    kept, _ = leave_out(known, 10)
    path = write_people(tmp_path / "truncated.jsonl", kept)
    before = await registry.dump()

    with pytest.raises(MassRemovalRefused) as caught:
        await registry.import_file(path)

    refused = caught.value
    assert (refused.removed, refused.deactivated, refused.known) == (10, 0, COUNT)
    message = str(refused)
    assert str(path) in message
    assert "nothing was imported" in message
    assert "remove 10 and deactivate 0 of the 100 known professionals" in message
    assert "10.0%" in message
    assert "5.0% allowed" in message
    assert "--force" in message
    for record in known:
        assert record["ssin"] not in message
    assert await registry.dump() == before
    run = (await registry.runs())[-1]
    assert run.status == "refused"
    assert run.source == str(path)
    assert "remove 10 and deactivate 0" in run.error
    assert run.finished_at is not None


async def test_the_same_snapshot_forced_marks_the_missing_removed_with_one_event_each(
    registry: Registry, known: list[Record], tmp_path: Path
) -> None:
    kept, missing = leave_out(known, 10)
    path = write_people(tmp_path / "truncated.jsonl", kept)
    with pytest.raises(MassRemovalRefused):
        await registry.import_file(path)
    events_before = len(await registry.events())
    missing_ids = {await registry.id_of(r["ssin"]) for r in missing}

    summary = await registry.import_file(path, force=True)

    assert summary.removed == 10
    assert summary.unchanged == COUNT - 10
    assert summary.registered == summary.updated == 0
    assert summary.events_published == 10
    assert await registry.removed_ids() == missing_ids
    new_events = (await registry.events())[events_before:]
    assert [e.type for e in new_events] == [REMOVED] * 10
    assert {e.payload["professional_id"] for e in new_events} == missing_ids
    assert {e.key for e in new_events} == missing_ids
    runs = await registry.runs()
    assert [run.status for run in runs] == ["succeeded", "refused", "succeeded"]
    assert runs[-1].counts["removed"] == 10

    again = await registry.import_file(path)

    assert again.removed == 0
    assert again.events_published == 0


async def test_a_snapshot_deactivating_10_percent_is_refused_and_counts_deactivations(
    registry: Registry, known: list[Record], tmp_path: Path
) -> None:
    stopped = list(
        follow_up_snapshot(
            known, change_percent=10, seed=SEED, new_version=LATER_VERSION, total=COUNT
        )
    )
    assert sum(reason is not None for _, reason in stopped) == 10
    path = write_people(tmp_path / "stops.jsonl", (record for record, _ in stopped))
    before = await registry.dump()

    with pytest.raises(MassRemovalRefused) as caught:
        await registry.import_file(path)

    refused = caught.value
    assert (refused.removed, refused.deactivated, refused.known) == (0, 10, COUNT)
    message = str(refused)
    assert "remove 0 and deactivate 10 of the 100 known professionals" in message
    assert "--force" in message
    assert await registry.dump() == before

    forced = await registry.import_file(path, force=True)

    assert forced.updated == 10
    assert forced.removed == 0
    assert sum(forced.status_changes.values()) >= 10


async def test_removals_and_deactivations_count_together_against_the_share(
    registry: Registry, known: list[Record], tmp_path: Path
) -> None:
    kept, _ = leave_out(known, 3)
    stop_at = {0, 50, 90}
    changed = [
        dict(apply_stop_reason(r, "deceased")[0], version=LATER_VERSION) if i in stop_at else r
        for i, r in enumerate(kept)
    ]
    path = write_people(tmp_path / "mixed.jsonl", changed)
    before = await registry.dump()

    with pytest.raises(MassRemovalRefused) as caught:
        await registry.import_file(path)

    assert (caught.value.removed, caught.value.deactivated) == (3, 3)
    assert await registry.dump() == before


@pytest.mark.parametrize("missing_count", [2, 5])
async def test_removals_within_the_allowed_share_apply_without_force(
    registry: Registry, known: list[Record], tmp_path: Path, missing_count: int
) -> None:
    kept, missing = leave_out(known, missing_count)
    events_before = len(await registry.events())

    summary = await registry.import_file(write_people(tmp_path / "fewer.jsonl", kept))

    assert summary.removed == missing_count
    assert await registry.removed_ids() == {await registry.id_of(r["ssin"]) for r in missing}
    new_events = (await registry.events())[events_before:]
    assert [e.type for e in new_events] == [REMOVED] * missing_count


async def test_one_more_than_the_allowed_share_is_refused(
    registry: Registry, known: list[Record], tmp_path: Path
) -> None:
    kept, _ = leave_out(known, 6)

    with pytest.raises(MassRemovalRefused) as caught:
        await registry.import_file(write_people(tmp_path / "fewer.jsonl", kept))

    assert caught.value.removed == 6
    assert await registry.removed_ids() == set()


async def test_a_first_import_into_an_empty_database_is_never_refused(
    registry: Registry, tmp_path: Path
) -> None:
    # Half of them may not practise: into an empty database that deactivates no one.
    records = people(inactive_share=0.5)

    summary = await registry.import_file(write_people(tmp_path / "first.jsonl", records))

    assert summary.registered == COUNT
    assert summary.removed == 0
    assert len(await registry.events()) == 2 * COUNT


async def test_a_configured_share_replaces_the_default(
    registry: Registry, known: list[Record], tmp_path: Path
) -> None:
    kept, _ = leave_out(known, 10)
    path = write_people(tmp_path / "truncated.jsonl", kept)

    with pytest.raises(MassRemovalRefused) as caught:
        await registry.import_file(path, max_removal_share=0.09)
    assert "9.0% allowed" in str(caught.value)

    summary = await registry.import_file(path, max_removal_share=0.10)

    assert summary.removed == 10


# --- lenient runs ----------------------------------------------------------------------


@dataclass
class FlawedFile:
    path: Path
    missing: list[Record]
    bad_riziv: Record
    """A person whose line has a valid ssin but an invalid RIZIV number."""
    bad_riziv_line: int
    renamed: Record
    """A valid line whose facts changed."""
    other: Record | None = None
    other_line: int = 0


def flawed_snapshot(
    known: list[Record], tmp_path: Path, *, unparseable: bool
) -> tuple[FlawedFile, list[str]]:
    """Three people left out, one renamed, and two invalid lines.

    The second invalid line is unparseable JSON (it names no valid person) or, when
    `unparseable` is false, a line without `version` whose ssin is valid.
    """
    kept, missing = leave_out(known, 3)
    riziv_at, other_at, renamed_at = [i for i in with_riziv(kept) if i > 0][:3]
    lines = [as_line(r) for r in kept]
    lines[riziv_at] = as_line(with_bad_riziv(kept[riziv_at]))
    if unparseable:
        lines[other_at] = as_line(kept[other_at])[:-25]
    else:
        lines[other_at] = as_line({k: v for k, v in kept[other_at].items() if k != "version"})
    renamed = dict(kept[renamed_at], last_name="Vanderbeken", version=LATER_VERSION)
    lines[renamed_at] = as_line(renamed)
    flawed = FlawedFile(
        path=write_lines(tmp_path / "flawed.jsonl", lines),
        missing=missing,
        bad_riziv=kept[riziv_at],
        bad_riziv_line=riziv_at + 1,
        renamed=renamed,
        other=kept[other_at],
        other_line=other_at + 1,
    )
    return flawed, lines


async def test_lenient_run_imports_valid_lines_records_errors_and_skips_removals_when_unsure(
    registry: Registry, known: list[Record], tmp_path: Path
) -> None:
    flawed, lines = flawed_snapshot(known, tmp_path, unparseable=True)
    events_before = len(await registry.events())

    summary = await registry.import_file(flawed.path, lenient=True)

    assert summary.rejected == 2
    assert summary.lines == len(lines) == COUNT - 3
    assert summary.updated == 1
    assert summary.unchanged == COUNT - 3 - 2 - 1
    assert summary.removed == 0
    assert any(NO_REMOVALS_NOTE in note for note in summary.notes)
    assert await registry.removed_ids() == set()
    new_events = (await registry.events())[events_before:]
    assert [e.type for e in new_events] == [UPDATED]
    assert new_events[0].payload["last_name"] == "Vanderbeken"
    row = await registry.professional(flawed.bad_riziv["ssin"])
    stored_riziv = row.facts["professions"][0]["riziv_number"]
    assert stored_riziv == flawed.bad_riziv["professions"][0]["riziv_number"]
    run = (await registry.runs())[-1]
    assert run.status == "succeeded"
    assert run.counts["rejected"] == 2
    assert run.counts["removed"] == 0
    errors = "\n".join(run.errors)
    assert f"line {flawed.bad_riziv_line}, field professions.0.riziv_number:" in errors
    assert "not a valid RIZIV number" in errors
    assert f"line {flawed.other_line}, field (line): not valid JSON" in errors
    assert NO_REMOVALS_NOTE in errors
    for record in known:
        assert record["ssin"] not in errors


async def test_lenient_run_with_identifiable_rejections_removes_the_missing_but_not_the_rejected(
    registry: Registry, known: list[Record], tmp_path: Path
) -> None:
    flawed, _ = flawed_snapshot(known, tmp_path, unparseable=False)
    assert flawed.other is not None
    events_before = len(await registry.events())
    missing_ids = {await registry.id_of(r["ssin"]) for r in flawed.missing}

    summary = await registry.import_file(flawed.path, lenient=True)

    assert summary.rejected == 2
    assert summary.updated == 1
    assert summary.removed == 3
    assert not any(NO_REMOVALS_NOTE in note for note in summary.notes)
    assert await registry.removed_ids() == missing_ids
    for rejected in (flawed.bad_riziv, flawed.other):
        row = await registry.professional(rejected["ssin"])
        assert row.removed is False
        assert utc(row.source_version) == datetime.fromisoformat(FIRST_VERSION)
    new_events = (await registry.events())[events_before:]
    assert Counter(e.type for e in new_events) == {UPDATED: 1, REMOVED: 3}
    assert {e.payload["professional_id"] for e in new_events if e.type == REMOVED} == missing_ids
    errors = "\n".join((await registry.runs())[-1].errors)
    assert f"line {flawed.bad_riziv_line}, field professions.0.riziv_number:" in errors
    assert f"line {flawed.other_line}, field version:" in errors


async def test_strict_run_refuses_the_same_flawed_file_and_applies_nothing(
    registry: Registry, known: list[Record], tmp_path: Path
) -> None:
    flawed, _ = flawed_snapshot(known, tmp_path, unparseable=True)
    before = await registry.dump()

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(flawed.path)

    assert caught.value.invalid_lines == 2
    message = str(caught.value)
    assert f"line {flawed.bad_riziv_line}, field professions.0.riziv_number:" in message
    assert f"line {flawed.other_line}, field (line): not valid JSON" in message
    assert "--lenient" in message
    assert await registry.dump() == before


@pytest.mark.parametrize("chunk_size", [1000, 1])
async def test_lenient_run_skips_a_line_repeating_a_person_and_keeps_the_first(
    registry: Registry, tmp_path: Path, chunk_size: int
) -> None:
    records = people(5)
    again = dict(records[1], first_name="Bert", version=LATER_VERSION)
    path = write_people(tmp_path / "twice.jsonl", [*records, again])

    summary = await registry.import_file(path, lenient=True, chunk_size=chunk_size)

    assert summary.rejected == 1
    assert summary.registered == 5
    assert "line 6, field ssin: same person as line 2" in "\n".join(summary.errors())
    row = await registry.professional(records[1]["ssin"])
    assert row.facts["first_name"] == records[1]["first_name"]
    assert utc(row.source_version) == datetime.fromisoformat(FIRST_VERSION)


# --- coming back -----------------------------------------------------------------------


@pytest.mark.parametrize("may_practise", [True, False])
async def test_a_person_who_reappears_after_removal_is_updated_and_no_longer_removed(
    registry: Registry, known: list[Record], tmp_path: Path, may_practise: bool
) -> None:
    kept, (gone,) = leave_out(known, 1)
    await registry.import_file(write_people(tmp_path / "without.jsonl", kept))
    gone_id = await registry.id_of(gone["ssin"])
    assert await registry.removed_ids() == {gone_id}
    comeback = dict(gone, version=LATER_VERSION)
    if not may_practise:
        comeback = apply_stop_reason(comeback, "deceased")[0]
    events_before = len(await registry.events())

    summary = await registry.import_file(write_people(tmp_path / "back.jsonl", [*kept, comeback]))

    assert summary.updated == 1
    assert summary.registered == 0
    assert summary.removed == 0
    assert await registry.removed_ids() == set()
    row = await registry.professional(gone["ssin"])
    assert row.removed is False
    assert row.professional_id == gone_id
    assert row.facts["deceased"] is not may_practise
    new_events = (await registry.events())[events_before:]
    assert {e.payload["professional_id"] for e in new_events} == {gone_id}
    if may_practise:
        assert [e.type for e in new_events] == [UPDATED, STATUS_CHANGED]
        assert new_events[1].payload["reason"] == "reactivated"
        assert new_events[1].payload["may_practise"] is True
        assert summary.status_changes == {"reactivated": 1}
    else:
        assert [e.type for e in new_events] == [UPDATED]
    assert new_events[0].payload["may_practise"] is may_practise
    assert new_events[0].payload["last_name"] == gone["last_name"]


async def test_a_comeback_is_not_older_than_the_removal_it_undoes(
    registry: Registry, known: list[Record], tmp_path: Path
) -> None:
    # The source renamed the person; a later export left them out by mistake, and the next
    # one has them again, still with the version of that rename.
    kept, (gone,) = leave_out(known, 1)
    changed_at = datetime.now(UTC) - timedelta(minutes=5)  # before the removal run started
    assert changed_at > datetime.fromisoformat(FIRST_VERSION)
    await registry.import_file(write_people(tmp_path / "without.jsonl", kept))
    comeback = dict(gone, last_name="Vanderbeken", version=changed_at.isoformat())
    await registry.import_file(write_people(tmp_path / "back.jsonl", [*kept, comeback]))
    gone_id = await registry.id_of(gone["ssin"])
    history = [e for e in await registry.events() if e.key == gone_id]
    assert [e.type.removeprefix(PREFIX) for e in history] == [
        "ProfessionalRegistered",
        "ProfessionalIdentified",
        "ProfessionalRemoved",
        "ProfessionalUpdated",
        "ProfessionalStatusChanged",
    ]

    # What a consumer of the public topic makes of that history.
    fiche = ProviderFiche.register(ProfessionalRegistered.model_validate(history[0].payload))
    fiche.apply_removal(ProfessionalRemoved.model_validate(history[2].payload))
    fiche.apply_update(ProfessionalUpdated.model_validate(history[3].payload))
    fiche.apply_status_change(ProfessionalStatusChanged.model_validate(history[4].payload))

    removal = datetime.fromisoformat(history[2].payload["source_version"])
    for comeback_event in history[3:]:
        assert datetime.fromisoformat(comeback_event.payload["source_version"]) >= removal
    assert fiche.official_last_name == "Vanderbeken"
    assert fiche.may_practise is True
