"""Snapshot lines and fields within bounds; unreadable files refused by name; refusals recorded.

An oversized line is refused before it is parsed (and never held whole in memory), a
field over its limit or holding a control character refuses its line naming the field,
a truncated gzip file is refused naming the file and why, and every refusal is recorded
as a sync run with its errors. Watched folder and delta feed apply the same checks.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from registry_sync.adapters import tables
from registry_sync.adapters.delta_feed import DeltaFeedClient, FeedInvalid
from registry_sync.adapters.snapshot_files import read_snapshot
from registry_sync.domain.source_limits import MAX_LINE_BYTES
from registry_sync.entrypoints.http import runs_router
from registry_sync.handlers.import_snapshot import SnapshotRejected
from registry_sync.handlers.watch_folder import FolderWatcher
from registry_sync.simulator.demo_data import generate_professionals
from tests.support.registry import RegistryUnderTest, registry_opener

MakeDatabase = Callable[[str], Any]
Record = dict[str, Any]


def people(count: int) -> list[Record]:
    return list(generate_professionals(count, 11))


def jsonl(records: list[Record]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def oversized_line() -> bytes:
    # Valid JSON, and a valid person but for a huge unknown field: only its size is wrong.
    person = people(1)[0]
    return json.dumps({**person, "padding": "x" * (MAX_LINE_BYTES + 10)}).encode() + b"\n"


@pytest.fixture
async def registry(
    tmp_path: Path, database_url_factory: MakeDatabase
) -> AsyncIterator[RegistryUnderTest]:
    async with registry_opener(tmp_path, database_url_factory, RegistryUnderTest) as open_one:
        yield await open_one("registry-sync")


async def nothing_applied(registry: RegistryUnderTest) -> bool:
    return (
        await registry.count(tables.professionals) == 0 and await registry.count(tables.outbox) == 0
    )


async def test_an_oversized_line_refuses_the_file_naming_file_line_and_what_to_do(
    registry: RegistryUnderTest, tmp_path: Path
) -> None:
    first, second = people(2)
    path = tmp_path / "big.jsonl"
    path.write_bytes(jsonl([first]) + oversized_line() + jsonl([second]))

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path)

    message = str(caught.value)
    assert f"{path}: line 2, field (line): longer than {MAX_LINE_BYTES:,} bytes" in message
    assert "Ask the source for a corrected export" in message
    assert "line 1," not in message and "line 3," not in message
    assert await nothing_applied(registry)
    (run,) = await registry.rows(tables.sync_runs)
    assert run.status == "refused"
    assert run.errors == [
        f"line 2, field (line): longer than {MAX_LINE_BYTES:,} bytes, the most one "
        "professional's line may hold; it was not read. Ask the source for a corrected export"
    ]

    lenient = await registry.import_file(path, lenient=True)
    assert (lenient.registered, lenient.rejected) == (2, 1)


def test_an_oversized_line_is_never_held_whole_in_memory(tmp_path: Path) -> None:
    huge = 24 * MAX_LINE_BYTES
    path = tmp_path / "huge.jsonl.gz"
    with gzip.open(path, "wb") as out:
        out.write(b'{"ssin": "' + b"1" * huge + b'"}\n')
        out.write(jsonl(people(1)))
    tracemalloc.start()
    try:
        parsed = list(read_snapshot(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [p.line for p in parsed] == [1, 2]
    assert parsed[0].record is None and "longer than" in parsed[0].errors[0].problem
    assert parsed[1].record is not None
    # A few line-sized buffers at most, far from the 24 MB line.
    assert peak < 6 * MAX_LINE_BYTES


async def test_an_oversized_csv_row_refuses_the_file_naming_the_line(
    registry: RegistryUnderTest, tmp_path: Path
) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["ssin", "last_name", "first_name", "version", "profession", "visa_status"])
    writer.writerow(["85073003328", "x" * (MAX_LINE_BYTES + 1), "A", "2026-01-01T00:00:00Z"])
    path = tmp_path / "big.csv"
    path.write_text(out.getvalue(), encoding="utf-8")

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path)

    message = str(caught.value)
    assert str(path) in message
    assert f"line 2 is longer than {MAX_LINE_BYTES:,} bytes" in message
    assert await nothing_applied(registry)


async def test_a_field_over_its_limit_refuses_the_line_naming_the_field(
    registry: RegistryUnderTest, tmp_path: Path
) -> None:
    good, long_name, nul_language = people(3)
    long_name["last_name"] = "x" * 270
    nul_language["language"] = "n\x00l"
    path = tmp_path / "fields.jsonl"
    path.write_bytes(jsonl([good, long_name, nul_language]))

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path)

    message = str(caught.value)
    assert "line 2, field last_name: String should have at most 150 characters" in message
    assert (
        "line 3, field language: language must be a language code of 2 or 3 letters, "
        "then optional subtags (nl, fr, nl-BE)"
    ) in message
    assert await nothing_applied(registry)

    lenient = await registry.import_file(path, lenient=True, max_removal_share=1.0)
    assert (lenient.registered, lenient.rejected) == (1, 2)


def truncated_gzip(path: Path, records: list[Record]) -> Path:
    whole = gzip.compress(jsonl(records))
    path.write_bytes(whole[: len(whole) // 2])
    return path


async def test_a_truncated_gzip_is_refused_naming_the_file_and_why_and_recorded(
    registry: RegistryUnderTest, tmp_path: Path
) -> None:
    path = truncated_gzip(tmp_path / "cut.jsonl.gz", people(200))

    with pytest.raises(SnapshotRejected) as caught:
        await registry.import_file(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: cannot be read: the gzip data is truncated or damaged")
    assert "Nothing was imported" in message and "Copy the file again" in message
    assert await nothing_applied(registry)
    (run,) = await registry.rows(tables.sync_runs)
    assert run.status == "refused" and run.source == str(path)
    assert "truncated" in run.errors[0]

    # Operators see it over HTTP too.
    app = FastAPI()
    app.include_router(runs_router(registry.runtime))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://registry.test"
    ) as client:
        listed = (await client.get("/api/registry-sync/runs")).json()
    assert [(r["status"], r["source"]) for r in listed] == [("refused", str(path))]
    assert "truncated" in listed[0]["errors"][0]
    assert "cannot be read" in listed[0]["error"]


async def test_the_watched_folder_rejects_oversized_and_truncated_files_with_the_reason(
    registry: RegistryUnderTest, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "big.jsonl").write_bytes(jsonl(people(1)) + oversized_line())
    truncated_gzip(inbox / "cut.jsonl.gz", people(200))
    watcher = FolderWatcher(inbox, registry.import_file)

    await watcher.scan_once()
    handled = {path.name.split("-", 1)[1]: outcome for path, outcome in await watcher.scan_once()}

    assert handled == {"big.jsonl": "rejected", "cut.jsonl.gz": "rejected"}
    reports = {
        report.name.split("-", 1)[1]: report.read_text()
        for report in (inbox / "rejected").glob("*.error.txt")
    }
    assert "line 2, field (line): longer than" in reports["big.jsonl.error.txt"]
    assert "gzip data is truncated" in reports["cut.jsonl.gz.error.txt"]
    assert await nothing_applied(registry)
    statuses = [row.status for row in await registry.rows(tables.sync_runs)]
    assert statuses == ["refused", "refused"]


async def test_the_delta_feed_applies_the_same_field_checks_and_bounds_a_page() -> None:
    person = people(1)[0]
    page = {
        "changes": [{**person, "first_name": "An\x00na"}],
        "next_cursor": "1",
        "has_more": False,
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=page))
    async with DeltaFeedClient("http://source.test/feed", transport=transport) as client:
        fetched = await client.fetch_page(None, 10)
    assert fetched.invalid == 1
    assert [str(e) for e in fetched.errors] == [
        "change 1 after cursor (start of the feed), field first_name: contains a control "
        "character (U+0000) at position 3; only printable text is accepted"
    ]

    big = json.dumps({**page, "changes": [person] * 50}).encode()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=big))
    async with DeltaFeedClient(
        "http://source.test/feed", transport=transport, max_page_bytes=len(big) - 1
    ) as client:
        with pytest.raises(FeedInvalid) as caught:
            await client.fetch_page("7", 50)
    message = str(caught.value)
    assert "http://source.test/feed/changes?since=7&limit=50" in message
    assert f"more than {len(big) - 1:,} bytes" in message
    assert "REGISTRY_SYNC_FEED_PAGE_SIZE" in message


async def test_run_records_of_refusals_never_hold_a_national_register_number(
    registry: RegistryUnderTest, tmp_path: Path
) -> None:
    records = people(3)
    records[1]["last_name"] = "x" * 300
    path = tmp_path / "one-bad.jsonl"
    path.write_bytes(jsonl(records))
    with pytest.raises(SnapshotRejected):
        await registry.import_file(path)
    async with registry.runtime.sessions() as session:
        stored = str(list(await session.execute(sa.select(tables.sync_runs))))
    for record in records:
        assert record["ssin"] not in stored
