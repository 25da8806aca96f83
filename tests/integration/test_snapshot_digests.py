"""Unchanged snapshot lines are skipped by their digest, unparsed; everything else is not.

Each person's stored state keeps a keyed digest of the line it came from. An import
compares every line's digest with the stored ones before parsing anything: a line the
stored state came from is counted unchanged and never parsed (proved here by counting
`SourceLine.parse`), so a 1% change parses 1% of the lines. A line that differs in any
byte takes the full path, and publishes nothing when its facts are the same.

Runs on SQLite and PostgreSQL, without a broker: events stay in the outbox; and with the
stored index arriving at three moments of the check pass, which reads it while it hashes
the first lines (`index_arrival`).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import registry_sync.adapters.line_digests as line_digests
import registry_sync.handlers.import_snapshot as import_module
import registry_sync.handlers.snapshot_check as check_module
from registry_sync.adapters import tables
from registry_sync.adapters.snapshot_files import ParsedLine, SourceLine
from registry_sync.domain.source_limits import MAX_LINE_BYTES
from registry_sync.handlers.apply_records import apply_records
from registry_sync.handlers.import_snapshot import MassRemovalRefused, SnapshotRejected
from registry_sync.handlers.snapshot_check import StoredIndex, load_stored_index, person_key
from registry_sync.handlers.sync_summary import ImportSummary
from registry_sync.simulator.demo_data import apply_stop_reason, generate_professionals
from tests.support.registry import RegistryUnderTest, registry_opener, utc

Record = dict[str, Any]

COUNT = 40
SEED = 31
FIRST_VERSION = "2026-11-27T22:00:00Z"
LATER_VERSION = "2026-11-28T06:00:00Z"
FEED_VERSION = "2026-11-28T09:00:00Z"


def people(count: int = COUNT) -> list[Record]:
    return list(generate_professionals(count, SEED, version=FIRST_VERSION))


def as_line(record: Record) -> str:
    return json.dumps(record, ensure_ascii=False)


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_people(path: Path, records: Iterable[Record]) -> Path:
    return write_lines(path, map(as_line, records))


class Registry(RegistryUnderTest):
    async def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the professionals and the outbox, every column."""
        dumped = {}
        async with self.runtime.sessions() as session:
            for table in (tables.professionals, tables.outbox):
                result = await session.execute(
                    sa.select(table).order_by(*table.primary_key.columns)
                )
                dumped[table.name] = [tuple(row) for row in result]
        return dumped

    async def digests(self) -> dict[str, bytes | None]:
        table = tables.professionals
        async with self.runtime.sessions() as session:
            result = await session.execute(sa.select(table.c.nrn_hash, table.c.line_digest))
            return {nrn_hash: digest for nrn_hash, digest in result}


@pytest.fixture
async def registry(
    tmp_path: Path, database_url_factory: Callable[[str], Any]
) -> AsyncIterator[Registry]:
    async with registry_opener(tmp_path, database_url_factory, Registry) as open_registry:
        yield await open_registry("registry-sync")


@pytest.fixture(autouse=True, params=["index first", "index after line 2", "index last"])
def index_arrival(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """When the stored index, read beside the check pass, arrives: before the first line
    (every line checked as it is read), after line 2 (lines 1 and 2 hashed ahead, checked
    once it is there, the rest as they are read), or after the last line (every line
    hashed ahead: a file shorter than POLL_LINES never looks for it before its end).
    Afterwards, each check pass the test ran is asserted to have hashed that many ahead."""
    arrival = str(request.param)
    hashed_ahead: list[int] = []
    hash_ahead = check_module.SnapshotChecker._hash_until_the_index_arrives

    async def counted(self: Any, *args: Any) -> check_module.LineDigests:
        hashed = await hash_ahead(self, *args)
        hashed_ahead.append(len(hashed.numbers))
        return hashed

    monkeypatch.setattr(check_module.SnapshotChecker, "_hash_until_the_index_arrives", counted)
    if arrival == "index last":
        assert check_module.POLL_LINES > COUNT + 10
        yield arrival
        assert all(count > 2 for count in hashed_ahead)
        return
    monkeypatch.setattr(check_module, "POLL_LINES", 2)

    async def read_first(sessions: Any) -> asyncio.Future[StoredIndex]:
        index = await load_stored_index(sessions)
        future: asyncio.Future[StoredIndex] = asyncio.get_running_loop().create_future()
        if arrival == "index first":
            future.set_result(index)
        else:  # set by the loop at the check pass's first look, after line 2
            asyncio.get_running_loop().call_soon(future.set_result, index)
        return future

    monkeypatch.setattr(import_module, "start_reading_the_index", read_first)
    yield arrival
    assert set(hashed_ahead) <= ({0} if arrival == "index first" else {2})


@pytest.fixture
def digest_tables_built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each digest-to-position table an import builds."""
    built: list[int] = []
    table = StoredIndex.position_of_digest.fget
    assert table is not None

    def counted(index: StoredIndex) -> dict[bytes, int]:
        fresh = index._position_of_digest is None
        found: dict[bytes, int] = table(index)
        if fresh:
            built.append(len(found))
        return found

    monkeypatch.setattr(StoredIndex, "position_of_digest", property(counted))
    return built


@pytest.fixture
def parsed_lines(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The numbers of the lines an import parses (validates), in order."""
    parsed: list[int] = []
    parse = SourceLine.parse

    def counting_parse(line: SourceLine) -> ParsedLine:
        parsed.append(line.line)
        return parse(line)

    monkeypatch.setattr(SourceLine, "parse", counting_parse)
    return parsed


async def test_an_unchanged_reimport_parses_no_line_and_publishes_nothing(
    registry: Registry, tmp_path: Path, parsed_lines: list[int]
) -> None:
    path = write_people(tmp_path / "snapshot.jsonl", people())
    first = await registry.import_file(path)
    assert first.registered == COUNT
    assert parsed_lines == list(range(1, COUNT + 1))
    assert all(digest is not None for digest in (await registry.digests()).values())
    before = await registry.dump()
    parsed_lines.clear()

    again = await registry.import_file(path)

    assert parsed_lines == []
    assert (again.lines, again.unchanged, again.events_published) == (COUNT, COUNT, 0)
    assert again.registered == again.updated == again.stale == again.removed == 0
    assert await registry.dump() == before
    runs = await registry.rows(tables.sync_runs, tables.sync_runs.c.started_at)
    assert [run.status for run in runs] == ["succeeded", "succeeded"]
    assert runs[-1].counts["unchanged"] == COUNT


async def test_unchanged_lines_in_another_order_are_unchanged_and_a_repeat_is_refused(
    registry: Registry,
    tmp_path: Path,
    parsed_lines: list[int],
    digest_tables_built: list[int],
) -> None:
    # The check pass expects each line at the stored position after the previous one's,
    # which needs no digest table while the file keeps the stored order. The order is
    # only a guess: lines out of it are found all the same (by the table, built then), and
    # a line repeated right after itself is not in place but is still the same person.
    # SQLite keeps rows in the order they were inserted (their rowids); PostgreSQL's COPY
    # puts a short row into an earlier page that still has room, so there a few lines of
    # a file in its own order are out of place and the table is built all the same.
    records = people()
    path = write_people(tmp_path / "first.jsonl", records)
    await registry.import_file(path)
    before = await registry.dump()
    parsed_lines.clear()
    digest_tables_built.clear()

    in_order = await registry.import_file(path)

    assert in_order.unchanged == COUNT
    if registry.runtime.engine.dialect.name == "sqlite":
        assert digest_tables_built == []
    digest_tables_built.clear()
    shuffled = records[COUNT // 2 :] + records[::-1][COUNT // 2 :]

    again = await registry.import_file(write_people(tmp_path / "shuffled.jsonl", shuffled))

    assert digest_tables_built == [COUNT]
    assert parsed_lines == []
    assert (again.lines, again.unchanged, again.events_published) == (COUNT, COUNT, 0)
    assert await registry.dump() == before
    repeated = [*records[:3], records[2], *records[3:]]
    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(write_people(tmp_path / "repeated.jsonl", repeated))
    assert "line 4, field ssin: same person as line 3" in str(caught.value)
    assert await registry.dump() == before


async def test_a_changed_line_is_the_only_one_parsed_and_only_its_events_are_published(
    registry: Registry, tmp_path: Path, parsed_lines: list[int]
) -> None:
    records = people()
    await registry.import_file(write_people(tmp_path / "first.jsonl", records))
    events_before = await registry.count(tables.outbox)
    parsed_lines.clear()
    changed = list(records)
    changed[6] = dict(apply_stop_reason(records[6], "deceased")[0], version=LATER_VERSION)
    changed[20] = dict(records[20], last_name="Vanderbeken", version=LATER_VERSION)

    summary = await registry.import_file(write_people(tmp_path / "second.jsonl", changed))

    assert parsed_lines == [7, 21]
    assert (summary.updated, summary.unchanged) == (2, COUNT - 2)
    assert summary.status_changes == {"deceased": 1}
    assert summary.events_published == await registry.count(tables.outbox) - events_before
    row = await registry.professional(records[20]["ssin"])
    assert row.facts["last_name"] == "Vanderbeken"
    parsed_lines.clear()

    # The changed lines' digests were stored with their new state: skipped next time.
    again = await registry.import_file(write_people(tmp_path / "second-again.jsonl", changed))

    assert parsed_lines == []
    assert again.unchanged == COUNT and again.events_published == 0


async def test_the_same_facts_written_differently_take_the_full_path_and_publish_nothing(
    registry: Registry, tmp_path: Path, parsed_lines: list[int]
) -> None:
    records = people()
    await registry.import_file(write_people(tmp_path / "first.jsonl", records))
    stored_before = {
        nrn_hash: (utc(row[0]), row[1], row[2])
        for nrn_hash, *row in [
            (r.nrn_hash, r.source_version, r.facts, r.removed)
            for r in await registry.rows(tables.professionals, tables.professionals.c.nrn_hash)
        ]
    }
    events_before = await registry.count(tables.outbox)
    digests_before = await registry.digests()
    parsed_lines.clear()
    # Another writer: keys in another order, ASCII escapes, spaces; one with a newer
    # version that changed nothing registry-sync keeps (its gender).
    rewritten = [
        json.dumps(dict(reversed(list(record.items()))), ensure_ascii=True, indent=None)
        for record in records
    ]
    rewritten[3] = json.dumps(dict(records[3], gender="X", version=LATER_VERSION))

    summary = await registry.import_file(write_lines(tmp_path / "rewritten.jsonl", rewritten))

    assert parsed_lines == list(range(1, COUNT + 1))
    assert (summary.unchanged, summary.updated, summary.events_published) == (COUNT, 0, 0)
    assert await registry.count(tables.outbox) == events_before
    stored_after = {
        r.nrn_hash: (utc(r.source_version), r.facts, r.removed)
        for r in await registry.rows(tables.professionals, tables.professionals.c.nrn_hash)
    }
    assert stored_after == stored_before
    digests_after = await registry.digests()
    assert all(digests_after[key] != digests_before[key] for key in digests_before)
    parsed_lines.clear()

    # The new serialisation is remembered: importing it again parses nothing.
    again = await registry.import_file(tmp_path / "rewritten.jsonl")

    assert parsed_lines == []
    assert again.unchanged == COUNT and again.events_published == 0


@pytest.mark.parametrize("chunk_size", [1, 1000])
async def test_a_refused_file_whose_changed_lines_come_first_applies_nothing(
    registry: Registry, tmp_path: Path, chunk_size: int
) -> None:
    records = people()
    await registry.import_file(write_people(tmp_path / "first.jsonl", records))
    before = await registry.dump()
    lines = [as_line(record) for record in records]
    for index in range(10):  # ten real changes, checked in ten chunks of one
        lines[index] = as_line(dict(records[index], first_name="Anders", version=LATER_VERSION))
    lines[-1] = lines[-1][:-20]  # cut off: not valid JSON
    path = write_lines(tmp_path / "flawed.jsonl", lines)

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path, chunk_size=chunk_size)

    assert caught.value.invalid_lines == 1
    assert f"line {COUNT}, field (line): not valid JSON" in str(caught.value)
    assert await registry.dump() == before

    # The same changes with five people missing: refused by the removal guard instead.
    kept = [as_line(dict(r, first_name="Anders", version=LATER_VERSION)) for r in records[:35]]
    with pytest.raises(MassRemovalRefused):
        await registry.import_file(write_lines(tmp_path / "short.jsonl", kept))

    assert await registry.dump() == before


async def test_a_person_named_by_an_unchanged_and_a_changed_line_is_refused_either_way(
    registry: Registry, tmp_path: Path
) -> None:
    records = people(5)
    await registry.import_file(write_people(tmp_path / "first.jsonl", records))
    before = await registry.dump()
    renamed = as_line(dict(records[1], first_name="Bert", version=LATER_VERSION))
    unchanged_first = [*map(as_line, records), renamed]
    changed_first = [renamed, *map(as_line, records)]

    for name, lines, message in (
        ("unchanged-first", unchanged_first, "line 6, field ssin: same person as line 2"),
        ("changed-first", changed_first, "line 3, field ssin: same person as line 1"),
    ):
        with pytest.raises(SnapshotRejected) as caught:
            await registry.import_file(write_lines(tmp_path / f"{name}.jsonl", lines))
        assert message in str(caught.value)
        assert await registry.dump() == before


async def test_a_delta_feed_change_makes_the_old_snapshot_line_stale_not_unchanged(
    registry: Registry, tmp_path: Path, parsed_lines: list[int]
) -> None:
    records = people(5)
    path = write_people(tmp_path / "snapshot.jsonl", records)
    await registry.import_file(path)
    newer = SourceLine(1, as_line(dict(records[2], version=FEED_VERSION, deceased=True)).encode())
    record = newer.parse().record
    assert record is not None
    summary = ImportSummary(run_id="feed", source="feed")
    async with registry.runtime.sessions() as session, session.begin():
        await apply_records(
            session,
            [record],
            hasher=registry.hasher,
            outbox=registry.runtime.outbox,
            summary=summary,
        )
    assert summary.updated == 1
    assert (await registry.digests())[registry.hasher.hash(records[2]["ssin"])] is None
    parsed_lines.clear()

    again = await registry.import_file(path)

    assert parsed_lines == [3]
    assert (again.stale, again.unchanged, again.events_published) == (1, 4, 0)
    row = await registry.professional(records[2]["ssin"])
    assert row.facts["deceased"] is True
    assert utc(row.source_version) == datetime.fromisoformat(FEED_VERSION)


async def test_the_stored_index_holds_every_person_in_the_source_once_by_digest_or_not(
    registry: Registry, tmp_path: Path
) -> None:
    # The index is read as one aggregated text per kind (not a row per person): it must
    # still name exactly the people in the source, with their own digest or none.
    records = people(6)
    await registry.import_file(write_people(tmp_path / "first.jsonl", records))
    feed_change = SourceLine(
        1, as_line(dict(records[0], version=FEED_VERSION, deceased=True)).encode()
    )
    record = feed_change.parse().record
    assert record is not None
    async with registry.runtime.sessions() as session, session.begin():
        await apply_records(
            session,
            [record],
            hasher=registry.hasher,
            outbox=registry.runtime.outbox,
            summary=ImportSummary(run_id="feed", source="feed"),
        )
    await registry.import_file(write_people(tmp_path / "left.jsonl", records[:5]), force=True)
    digests = await registry.digests()

    index = await load_stored_index(registry.runtime.sessions)

    in_source = [registry.hasher.hash(record["ssin"]) for record in records[:5]]
    assert index.known == 5
    # Those with a digest first (found by it), then the one the feed changed (no digest).
    assert index.undigested_keys == person_key(in_source[0])
    keys = index.person_keys()
    assert sorted(keys[:4]) == sorted(person_key(key) for key in in_source[1:])
    assert keys[4] == person_key(in_source[0])
    assert {digest: keys[at] for digest, at in index.position_of_digest.items()} == {
        digests[key]: person_key(key) for key in in_source[1:]
    }
    assert all(index.position_of_key(key) == at for at, key in enumerate(keys))
    assert index.position_of_key(person_key(registry.hasher.hash(records[5]["ssin"]))) is None
    assert all(
        digests[key] == registry.hasher.line_digest(as_line(record).encode())
        for key, record in zip(in_source[1:], records[1:5], strict=True)
    )


async def test_the_stored_index_of_an_empty_registry_is_empty(registry: Registry) -> None:
    index = await load_stored_index(registry.runtime.sessions)
    assert (index.known, index.position_of_digest, index.person_keys()) == (0, {}, [])


# The second half of a large file is hashed by a second process (`SecondHalf`); here every
# file is large enough (SPLIT_MIN_BYTES is 0), so about lines 21 to 40 are the child's.


@pytest.fixture
def second_process(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every file split in two; per import, whether the child's digests were used."""
    monkeypatch.setattr(line_digests, "SPLIT_MIN_BYTES", 0)
    used: list[bool] = []
    digests = line_digests.SecondHalf.digests

    async def recorded(self: line_digests.SecondHalf) -> line_digests.LineDigests | None:
        found = await digests(self)
        used.append(found is not None)
        return found

    monkeypatch.setattr(line_digests.SecondHalf, "digests", recorded)
    return used


def with_blank_lines(records: list[Record]) -> list[str]:
    """The records' lines with blank ones and a CRLF ending among the first: line numbers
    in the second half are then not the records' indexes plus one."""
    lines = list(map(as_line, records))
    return [lines[0] + "\r", "", "   ", *lines[1:5], "", *lines[5:]]


async def test_a_second_process_hashing_the_second_half_leaves_an_unchanged_file_unparsed(
    registry: Registry, tmp_path: Path, parsed_lines: list[int], second_process: list[bool]
) -> None:
    records = people()
    path = write_lines(tmp_path / "first.jsonl", with_blank_lines(records))
    await registry.import_file(path)
    before = await registry.dump()
    parsed_lines.clear()

    again = await registry.import_file(path)

    assert second_process == [True, True]
    assert parsed_lines == []
    assert (again.lines, again.unchanged, again.events_published) == (COUNT, COUNT, 0)
    assert await registry.dump() == before


@pytest.mark.parametrize("child", ["hashes", "fails"])
async def test_a_change_in_the_second_half_is_parsed_at_its_own_line_number(
    registry: Registry,
    tmp_path: Path,
    parsed_lines: list[int],
    second_process: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    child: str,
) -> None:
    # A child that fails costs time, not correctness: the check pass reads its half.
    records = people()
    await registry.import_file(write_lines(tmp_path / "first.jsonl", with_blank_lines(records)))
    if child == "fails":
        command = [sys.executable, "-c", "import sys; sys.stdin.buffer.read(); sys.exit(3)"]
        monkeypatch.setattr(line_digests, "child_command", lambda: command)
    parsed_lines.clear()
    changed = list(records)
    changed[35] = dict(records[35], last_name="Vanderbeken", version=LATER_VERSION)
    lines = with_blank_lines(changed)

    summary = await registry.import_file(write_lines(tmp_path / "second.jsonl", lines))

    assert second_process[-1] is (child == "hashes")
    assert parsed_lines == [lines.index(as_line(changed[35])) + 1] == [39]
    assert (summary.updated, summary.unchanged) == (1, COUNT - 1)
    row = await registry.professional(records[35]["ssin"])
    assert row.facts["last_name"] == "Vanderbeken"


async def test_lines_of_the_second_half_are_refused_by_their_own_line_numbers(
    registry: Registry, tmp_path: Path, second_process: list[bool]
) -> None:
    records = people()
    await registry.import_file(write_lines(tmp_path / "first.jsonl", with_blank_lines(records)))
    before = await registry.dump()
    lines = with_blank_lines(records)
    lines[38] = '{"x": "' + "y" * MAX_LINE_BYTES + '"}'  # the person of line 39 is missing
    lines.append(as_line(records[2]))  # the same person as line 5
    repeated = len(lines)

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(write_lines(tmp_path / "refused.jsonl", lines))

    assert second_process[-1] is True
    assert [str(error) for error in caught.value.errors] == [
        f"line 39, field (line): longer than {MAX_LINE_BYTES:,} bytes, the most one "
        "professional's line may hold; it was not read. Ask the source for a corrected export",
        f"line {repeated}, field ssin: same person as line 5",
    ]
    assert await registry.dump() == before
