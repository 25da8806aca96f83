"""The public reads keep PostgreSQL's generic plans (`READ_SESSION_SETTINGS`, read_engine).

A generic plan made while the directory's tables are still empty (a new directory answering
before it has caught up) is kept until the tables are analyzed. For such a plan to be safe
too, every statement the public searches send must read its tables through an index when
planned generically on an empty directory that was never analyzed: a sequential scan kept
from then would read the whole table on every search at national scale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from tests.directory.support import searchable_directory

QUESTIONS = (
    "/fhir/PractitionerRole?address-postalcode=1000",
    "/fhir/PractitionerRole?near=50.85|4.35|5|km",
    "/fhir/PractitionerRole?near=50.85|4.35|5|km&specialty=physician",
    "/fhir/Practitioner?name=jan&_revinclude=PractitionerRole:practitioner",
    "/fhir/Practitioner?family=van%20sch&given=an",
    "/fhir/Practitioner?identifier=11234508003",
    "/fhir/Organization?name=huisart&address-city=Gent",
    "/fhir/Location?address-postalcode=9000",
    "/fhir/HealthcareService?_id=a,b",
    "/fhir/PractitionerRole/_history?_since=2026-01-01T00:00:00Z",
    "/hsds/services?search=huisa",
    "/hsds/services?postcode=1000&taxonomy_term_id=physician",
    "/hsds/organizations?search=praktijk",
    "/hsds/locations",
    "/hsds/services?page=3&per_page=20",
    "/fhir/Location?_lastUpdated=ge2026-01-01",
    "/hsds/service_at_locations?postcode=1000&proximity=5000",
    "/api/directory/search?q=jan",
    "/api/directory/search?postcode=9000&profession=physician",
    "/api/directory/search?near=9000&radius_km=5",
)


def _scans(plan: dict[str, Any]) -> list[str]:
    """Every table read without an index in `plan` (EXPLAIN's JSON node tree)."""
    found = []
    if plan["Node Type"] == "Seq Scan":
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


async def test_every_search_statement_planned_generically_on_an_empty_directory_uses_indexes(
    postgresql_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def noted(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, tuple(parameters or ())))

    driver_fetch = asyncpg.Connection.fetch

    async def noting_fetch(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append((query, args))  # the searches that read on the driver (driver_rows)
        return await driver_fetch(self, query, *args, **kwargs)

    async with searchable_directory(postgresql_url, tmp_path, response_cache_entries=0) as world:
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", noted)
        monkeypatch.setattr(asyncpg.Connection, "fetch", noting_fetch)
        try:
            for question in QUESTIONS:
                answer = await world.http.get(question)
                assert answer.status_code == 200, f"{question}: {answer.text}"
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", noted)
            monkeypatch.undo()

    reads = {sql: args for sql, args in sent if sql.lstrip().upper().startswith(("SELECT", "WITH"))}
    assert len(reads) >= len(QUESTIONS)  # each question sent at least one statement
    dsn = postgresql_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(
        dsn, server_settings={"plan_cache_mode": "force_generic_plan"}
    )
    try:
        scanned = {}
        for sql, args in reads.items():
            explained = await (await connection.prepare(sql)).explain(*args)
            tables = _scans(explained[0]["Plan"])
            if tables:
                scanned[sql[:300]] = tables
    finally:
        await connection.close()
    assert not scanned, scanned
