"""Snapshots in CSV (SOURCE-FORMAT.md): one row per person and profession, rows of a person
adjacent, a `diplomas` column holding `title|date;title|date`. Runs on SQLite and PostgreSQL.

The same people written as JSON Lines, as CSV and as gzip-compressed CSV must leave
registry-sync in the same state.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from registry_sync.adapters import tables
from registry_sync.adapters.csv_snapshot import (
    PERSON_COLUMNS,
    PROFESSION_COLUMNS,
    REQUIRED_COLUMNS,
)
from registry_sync.handlers.import_snapshot import (
    SnapshotRejected,
)
from registry_sync.simulator.demo_data import generate_professionals, write_snapshot
from tests.support.registry import RegistryUnderTest, registry_opener

Record = dict[str, Any]
MakeDatabase = Callable[[str], Any]

SEED = 31
COUNT = 80
COLUMNS = (*PERSON_COLUMNS, *PROFESSION_COLUMNS, "diplomas")


def people(count: int = COUNT) -> list[Record]:
    return list(generate_professionals(count, SEED))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_rows(record: Record) -> list[dict[str, str]]:
    """The rows of one person: one per profession, the person's fields repeated."""
    person = {name: _cell(record.get(name)) for name in PERSON_COLUMNS}
    rows = []
    for profession in record["professions"]:
        row = dict(person)
        row.update({name: _cell(profession.get(name)) for name in PROFESSION_COLUMNS})
        row["diplomas"] = ";".join(
            f"{d['title']}|{d.get('date') or ''}" for d in profession.get("diplomas", ())
        )
        rows.append(row)
    return rows


def csv_text(rows: Iterable[dict[str, str]], columns: Sequence[str] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_csv(path: Path, rows: Iterable[dict[str, str]], columns: Sequence[str] = COLUMNS) -> Path:
    data = csv_text(rows, columns).encode("utf-8")
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def all_rows(records: Iterable[Record]) -> list[dict[str, str]]:
    return [row for record in records for row in csv_rows(record)]


class Registry(RegistryUnderTest):
    async def nothing_stored(self) -> bool:
        """Nothing applied: no professional, no event; only the refused run is recorded."""
        counts = [await self.count(table) for table in (tables.professionals, tables.outbox)]
        async with self.runtime.sessions() as session:
            statuses = list(await session.scalars(sa.select(tables.sync_runs.c.status)))
        return counts == [0, 0] and statuses == ["refused"]


@pytest.fixture
async def registry_factory(
    tmp_path: Path, database_url_factory: MakeDatabase
) -> AsyncIterator[Callable[[str], Any]]:
    async with registry_opener(tmp_path, database_url_factory, Registry) as open_registry:
        yield open_registry


@pytest.fixture
async def registry(registry_factory: Callable[[str], Any]) -> Registry:
    return await registry_factory("registry-sync")


async def test_json_lines_csv_and_gzip_csv_of_the_same_people_give_the_same_state(
    registry_factory: Callable[[str], Any], tmp_path: Path
) -> None:
    records = people()
    two_professions = [r for r in records if len(r["professions"]) == 2]
    assert two_professions, "the sample must hold people with two professions"
    assert any(not p.get("riziv_number") for r in records for p in r["professions"])
    assert any(not p.get("convention") for r in records for p in r["professions"])
    jsonl = tmp_path / "snapshot.jsonl"
    write_snapshot(jsonl, records)
    rows = all_rows(records)
    assert len(rows) == COUNT + len(two_professions)
    plain = write_csv(tmp_path / "snapshot.csv", rows)
    compressed = write_csv(tmp_path / "snapshot.csv.gz", rows)
    assert compressed.read_bytes()[:2] == b"\x1f\x8b"
    # A two-profession person is two adjacent rows with the same ssin.
    ssins = [row["ssin"] for row in csv.DictReader(io.StringIO(plain.read_text("utf-8")))]
    first = ssins.index(two_professions[0]["ssin"])
    assert ssins[first + 1] == ssins[first]
    from_jsonl = await registry_factory("from-jsonl")
    from_csv = await registry_factory("from-csv")
    from_gzip = await registry_factory("from-csv-gz")

    summaries = [
        await from_jsonl.import_file(jsonl),
        await from_csv.import_file(plain),
        await from_gzip.import_file(compressed),
    ]

    for summary in summaries:
        assert summary.counts() == summaries[0].counts()
        assert summary.registered == COUNT
        assert summary.rejected == 0
    expected = await from_jsonl.state()
    assert len(expected[0]) == COUNT
    _, facts, _ = expected[0][from_jsonl.hasher.hash(two_professions[0]["ssin"])]
    assert [p["profession"] for p in facts["professions"]] == [
        p["profession"] for p in two_professions[0]["professions"]
    ]
    assert await from_csv.state() == expected
    assert await from_gzip.state() == expected


async def test_reimporting_the_csv_after_the_json_lines_changes_nothing(
    registry: Registry, tmp_path: Path
) -> None:
    records = people(30)
    jsonl = tmp_path / "snapshot.jsonl"
    write_snapshot(jsonl, records)
    await registry.import_file(jsonl)

    summary = await registry.import_file(write_csv(tmp_path / "snapshot.csv", all_rows(records)))

    assert summary.unchanged == 30
    assert summary.events_published == 0


@pytest.mark.parametrize("column", [*sorted(REQUIRED_COLUMNS), "visa_status"])
async def test_a_csv_missing_a_required_column_is_refused_naming_the_column(
    registry: Registry, tmp_path: Path, column: str
) -> None:
    records = people(5)
    path = write_csv(
        tmp_path / "snapshot.csv", all_rows(records), [c for c in COLUMNS if c != column]
    )

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path)

    message = str(caught.value)
    assert column in message
    assert str(path) in message
    assert "nothing was imported" in message
    for record in records:
        assert record["ssin"] not in message
    assert await registry.nothing_stored()


async def test_a_csv_header_without_a_required_column_says_so_on_the_header_line(
    registry: Registry, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "snapshot.csv", all_rows(people(3)), [c for c in COLUMNS if c != "version"]
    )

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path)

    assert "line 1, field (header): CSV header lacks column(s) version" in str(caught.value)
    assert await registry.nothing_stored()


def person_with_two_professions(records: list[Record]) -> int:
    return next(i for i, r in enumerate(records) if len(r["professions"]) == 2)


def two_profession_file(
    tmp_path: Path, **second_row_changes: str
) -> tuple[Path, list[Record], int]:
    """A CSV whose two-profession person's second row differs as given.

    Returns the path, the people, and the line of that person's first row (line 1 is the
    header).
    """
    records = people(12)
    index = person_with_two_professions(records)
    rows: list[dict[str, str]] = []
    first_line = 0
    for i, record in enumerate(records):
        person_rows = csv_rows(record)
        if i == index:
            first_line = len(rows) + 2
            person_rows[1].update(second_row_changes)
        rows.extend(person_rows)
    return write_csv(tmp_path / "snapshot.csv", rows), records, first_line


async def test_rows_of_one_person_whose_person_fields_differ_are_rejected_naming_the_fields(
    registry: Registry, tmp_path: Path
) -> None:
    path, records, first_line = two_profession_file(
        tmp_path, first_name="Anders", last_name="Anders"
    )

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path)

    message = str(caught.value)
    assert caught.value.invalid_lines == 1
    assert "person fields differ" in message
    assert "first_name, last_name" in message
    assert f"differ from line {first_line}:" in message
    for record in records:
        assert record["ssin"] not in message
    assert await registry.nothing_stored()


async def test_lenient_run_skips_a_person_whose_rows_disagree_and_imports_the_others(
    registry: Registry, tmp_path: Path
) -> None:
    path, records, _ = two_profession_file(tmp_path, birth_date="1970-01-01")
    index = person_with_two_professions(records)

    summary = await registry.import_file(path, lenient=True)

    assert summary.rejected == 1
    assert summary.registered == len(records) - 1
    assert "birth_date" in "\n".join(summary.errors())
    stored = {row.nrn_hash for row in await registry.rows(tables.professionals)}
    assert registry.hasher.hash(records[index]["ssin"]) not in stored
    assert len(stored) == len(records) - 1


async def test_rows_whose_person_fields_differ_name_the_line_of_the_differing_row(
    registry: Registry, tmp_path: Path
) -> None:
    path, _, first_line = two_profession_file(tmp_path, first_name="Anders")

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path)

    message = str(caught.value)
    assert f"line {first_line + 1}" in message
    assert f"differ from line {first_line}" in message


async def test_non_adjacent_rows_of_one_person_are_refused_as_the_same_person(
    registry: Registry, tmp_path: Path
) -> None:
    records = people(12)
    index = person_with_two_professions(records)
    assert index + 1 < len(records)
    split = csv_rows(records[index])
    rows: list[dict[str, str]] = []
    for i, record in enumerate(records):
        if i == index:
            rows.append(split[0])
            first_line = len(rows) + 1
        elif i == index + 1:
            rows.extend(csv_rows(record))
            rows.append(split[1])  # after someone else's rows
            second_line = len(rows) + 1
        else:
            rows.extend(csv_rows(record))
    path = write_csv(tmp_path / "snapshot.csv", rows)

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path)

    message = str(caught.value)
    assert caught.value.invalid_lines == 1
    assert f"line {second_line}, field ssin: same person as line {first_line}" in message
    assert records[index]["ssin"] not in message
    assert await registry.nothing_stored()
