"""Exports: only the caller's fiches, CSV and JSON, behind a signed, expiring link."""

from __future__ import annotations

import csv
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from contracts.events.identity import Role
from contracts.events.registry import (
    ProfessionalRegistered,
    ProfessionRecord,
    RegistrationStatus,
)
from fiches.adapters.export_tables import fiche_exports
from fiches.adapters.tables import outbox
from fiches.handlers.exports import ExportSettings, ExportWorker
from fiches.handlers.registry_events import RegistryEventHandlers
from servicekit.settings import Environment, PlatformSettings
from tests.fiches_exports.support import FichesApp, fiches_app, signed_export_settings
from tests.support.problems import error_locs, problem_of

SOLO = {"names": [{"name": "Huisartsenpraktijk Creemers"}]}
WARM = {
    "names": [{"name": "Het Warmste Team", "preferred": True}],
    "addresses": [{"street": "Kouter", "number": "12", "postcode": "9000", "municipality": "Gent"}],
    "email_addresses": [{"email": "onthaal@warmsteteam.be"}],
    "target_groups": ["gezinnen"],
}
OTHER = {"names": [{"name": "=Andere Praktijk"}]}


async def register(fiches: FichesApp, first: str, last: str) -> str:
    """A professional the source registers (fiches publishes their provider fiche)."""
    professional_id = str(uuid.uuid4())
    event = ProfessionalRegistered(
        professional_id=professional_id,
        last_name=last,
        first_name=first,
        language="nl",
        practice_ban=False,
        deceased=False,
        professions=(
            ProfessionRecord(
                profession="physician",
                visa_status=RegistrationStatus.ACTIVE,
                riziv_number="11234508003",
                riziv_status=RegistrationStatus.ACTIVE,
            ),
        ),
        may_practise=True,
        source_version=datetime(2026, 11, 27, tzinfo=UTC),
        occurred_at=datetime.now(UTC),
    )
    handlers = RegistryEventHandlers(fiches.component.runtime.outbox)
    async with fiches.component.runtime.sessions() as session, session.begin():
        await handlers.professional_registered(session, event)
        await handlers.after_batch(session, [event])
    return professional_id


def marc_headers(fiches: FichesApp, user_id: str, professional_id: str) -> dict[str, str]:
    return fiches.signer.headers(
        user_id,
        roles=(Role.PROFESSIONAL,),
        professional_id=professional_id,
        professions=("physician",),
    )


async def create_practice(
    fiches: FichesApp, headers: dict[str, str], body: dict[str, Any], offers: list[str]
) -> str:
    response = await fiches.http.post(
        "/api/fiches/practices?publish=true", headers=headers, json={**body, "offers": offers}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["practice_id"])


async def ready_events(fiches: FichesApp) -> list[dict[str, Any]]:
    async with fiches.component.runtime.sessions() as session:
        rows = await session.execute(
            sa.select(outbox.c.payload).where(outbox.c.topic == "fiches.exports.v1")
        )
        return [json.loads(bytes(row.payload)) for row in rows]


def path_of(url: str) -> str:
    """The API download behind a mailed link (the portal's page fetches exactly this)."""
    parts = urlsplit(url)
    export_id = parts.path.removeprefix("/exports/").removesuffix("/downloaden")
    return f"/api/fiches/exports/{export_id}/download?{parts.query}"


@pytest.fixture
async def world(database_url_factory: Any, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    async with fiches_app(await database_url_factory("fiches"), tmp_path) as fiches:
        marc_id = await register(fiches, "Marc", "Creemers")
        marc = marc_headers(fiches, "user-marc", marc_id)
        secretary = fiches.signer.headers("user-secretary", roles=(Role.CITIZEN,))
        other = fiches.signer.headers("user-other", roles=(Role.CITIZEN,))
        yield {
            "fiches": fiches,
            "marc": marc,
            "secretary": secretary,
            "other": other,
            "solo": await create_practice(fiches, marc, SOLO, ["physician"]),
            "warm": await create_practice(fiches, secretary, WARM, []),
            "other_practice": await create_practice(fiches, other, OTHER, []),
        }


async def test_an_export_holds_only_the_callers_fiches_behind_a_signed_link(
    world: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    fiches: FichesApp = world["fiches"]
    caplog.set_level(logging.DEBUG)
    response = await fiches.http.post(
        "/api/fiches/exports", headers=world["marc"], json={"formats": ["csv", "json"]}
    )
    assert response.status_code == 202, response.text
    export_id = response.json()["export_id"]
    assert response.json()["status"] == "pending"
    secretary_export = (
        await fiches.http.post("/api/fiches/exports", headers=world["secretary"], json={})
    ).json()["export_id"]
    assert await ready_events(fiches) == []  # nothing is produced in the request

    assert await fiches.exports.produce_pending() == 2
    state = await fiches.http.get(f"/api/fiches/exports/{export_id}", headers=world["marc"])
    assert state.json()["status"] == "ready" and state.json()["fiche_count"] == 2
    assert "download_url" not in state.text
    # Another user cannot see it.
    assert (
        await fiches.http.get(f"/api/fiches/exports/{export_id}", headers=world["other"])
    ).status_code == 404

    events = {e["export_id"]: e for e in await ready_events(fiches)}
    mine = events[export_id]
    assert mine["user_id"] == "user-marc" and mine["formats"] == ["csv", "json"]
    # Built from the configured public URL, not from the request's host (http://test).
    assert mine["download_url"].startswith(
        f"https://sociale-kaart.example/exports/{export_id}/downloaden?"
    )
    link = path_of(mine["download_url"])

    as_csv = await fiches.http.get(link + "&format=csv")
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {(r["fiche_type"], r["name"]) for r in rows} == {
        ("provider", "Marc Creemers"),
        ("practice", "Huisartsenpraktijk Creemers"),
    }
    as_json = (await fiches.http.get(link + "&format=json")).json()
    assert {f["fiche_id"] for f in as_json["fiches"]} == {r["fiche_id"] for r in rows}
    assert world["solo"] in {f["fiche_id"] for f in as_json["fiches"]}
    assert (await fiches.http.get(link)).text == as_csv.text  # default: the first format

    # The secretary's export: only the practice they manage, no provider fiche.
    theirs = path_of(events[secretary_export]["download_url"])
    their_rows = list(csv.DictReader(io.StringIO((await fiches.http.get(theirs)).text)))
    assert [(r["fiche_id"], r["postcode"], r["email"]) for r in their_rows] == [
        (world["warm"], "9000", "onthaal@warmsteteam.be")
    ]
    their_json = (await fiches.http.get(theirs + "&format=json")).json()
    assert [f["fiche_id"] for f in their_json["fiches"]] == [world["warm"]]

    # The signature is never logged by the service (the test's own HTTP client, which
    # plays the user's browser, does log the URLs it fetches).
    signature = parse_qs(urlsplit(mine["download_url"]).query)["signature"][0]
    service_records = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert service_records  # the capture works: the service and its libraries did log
    assert all(signature not in record.getMessage() for record in service_records)


async def test_tampered_and_expired_links_are_refused(world: dict[str, Any]) -> None:
    fiches: FichesApp = world["fiches"]
    mine = (await fiches.http.post("/api/fiches/exports", headers=world["marc"])).json()
    theirs = (await fiches.http.post("/api/fiches/exports", headers=world["other"])).json()
    await fiches.exports.produce_pending()
    events = {e["export_id"]: e for e in await ready_events(fiches)}
    url = events[mine["export_id"]]["download_url"]
    query = parse_qs(urlsplit(url).query)
    expires, signature = int(query["expires"][0]), query["signature"][0]
    base = f"/api/fiches/exports/{mine['export_id']}/download"

    assert (await fiches.http.get(path_of(url))).status_code == 200
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for params in (
        {"expires": expires, "signature": flipped},
        {"expires": expires + 3600, "signature": signature},  # a longer life
        {"expires": expires, "signature": ""},
    ):
        refused = await fiches.http.get(base, params=params)
        assert refused.status_code == 403, refused.text
        assert "not valid" in problem_of(refused)["detail"]
    # Marc's signature does not open somebody else's export.
    other = await fiches.http.get(
        f"/api/fiches/exports/{theirs['export_id']}/download",
        params={"expires": expires, "signature": signature},
    )
    assert other.status_code == 403
    missing = await fiches.http.get(base, params={"signature": signature})
    assert missing.status_code == 422
    assert error_locs(missing)[0] == ["query", "expires"]

    # A correctly signed link whose time is up.
    past = datetime.now(UTC) - timedelta(seconds=1)
    expired = await fiches.http.get(path_of(fiches.exports.download_url(mine["export_id"], past)))
    assert expired.status_code == 410
    assert "expired" in problem_of(expired)["detail"]
    # Once lapsed, the files themselves are dropped.
    async with fiches.component.runtime.sessions() as session, session.begin():
        from fiches.adapters.export_tables import fiche_exports

        await session.execute(
            sa.update(fiche_exports)
            .where(fiche_exports.c.export_id == mine["export_id"])
            .values(expires_at=past)
        )
    assert await fiches.exports.forget_expired() == 1
    gone = await fiches.http.get(path_of(url))
    assert gone.status_code == 410


async def test_asking_needs_a_login_and_valid_formats(world: dict[str, Any]) -> None:
    fiches: FichesApp = world["fiches"]
    assert (await fiches.http.post("/api/fiches/exports", json={})).status_code == 401
    bad = await fiches.http.post(
        "/api/fiches/exports", headers=world["marc"], json={"formats": ["xlsx"]}
    )
    assert bad.status_code == 422
    assert error_locs(bad)[0][:2] == ["body", "formats"]
    empty = await fiches.http.post(
        "/api/fiches/exports", headers=world["marc"], json={"formats": []}
    )
    assert empty.status_code == 422
    assert await fiches.exports.produce_pending() == 0  # nothing was stored


async def test_each_user_lists_only_their_own_exports_newest_first_without_links(
    world: dict[str, Any],
) -> None:
    fiches: FichesApp = world["fiches"]
    assert (await fiches.http.get("/api/fiches/exports")).status_code == 401
    empty = await fiches.http.get("/api/fiches/exports", headers=world["marc"])
    assert empty.status_code == 200 and empty.json() == {"exports": []}
    first = (await fiches.http.post("/api/fiches/exports", headers=world["marc"])).json()
    theirs = (await fiches.http.post("/api/fiches/exports", headers=world["other"])).json()
    second = (
        await fiches.http.post(
            "/api/fiches/exports", headers=world["marc"], json={"formats": ["json"]}
        )
    ).json()
    await fiches.exports.produce_pending()

    listed = await fiches.http.get("/api/fiches/exports", headers=world["marc"])
    assert listed.status_code == 200, listed.text
    exports = listed.json()["exports"]
    assert [e["export_id"] for e in exports] == [second["export_id"], first["export_id"]]
    assert {e["status"] for e in exports} == {"ready"}
    assert theirs["export_id"] not in listed.text
    assert "signature" not in listed.text and "download" not in listed.text


async def test_production_refuses_the_development_signing_key(world: dict[str, Any]) -> None:
    fiches: FichesApp = world["fiches"]
    production = PlatformSettings(environment=Environment.PRODUCTION)
    with pytest.raises(RuntimeError, match="FICHES_EXPORT_SIGNING_KEY"):
        ExportWorker(fiches.component.runtime, ExportSettings(), production)
    with pytest.raises(RuntimeError, match="at least 32"):
        ExportWorker(
            fiches.component.runtime,
            ExportSettings(
                signing_key="short",  # type: ignore[arg-type]
                public_base_url="https://x.example",
            ),
            production,
        )
    ExportWorker(
        fiches.component.runtime,
        ExportSettings(
            signing_key="k" * 40,  # type: ignore[arg-type]
            public_base_url="https://sociale-kaart.example",
        ),
        production,
    )


async def test_a_user_past_the_daily_number_of_exports_is_told_when_to_come_back(
    database_url_factory: Any, tmp_path: Path
) -> None:
    settings = signed_export_settings(max_per_user_per_day=2)
    url = await database_url_factory("fiches")
    async with fiches_app(url, tmp_path, export_settings=settings) as fiches:
        marc = marc_headers(fiches, "user-marc", await register(fiches, "Marc", "Creemers"))
        other = fiches.signer.headers("user-other", roles=(Role.CITIZEN,))
        first = await fiches.http.post("/api/fiches/exports", headers=marc)
        assert (await fiches.http.post("/api/fiches/exports", headers=marc)).status_code == 202

        refused = await fiches.http.post("/api/fiches/exports", headers=marc)

        assert refused.status_code == 429, refused.text
        assert "2 exports in the last 24 hours" in problem_of(refused)["detail"]
        assert 86_000 < int(refused.headers["Retry-After"]) <= 86_400
        async with fiches.component.runtime.sessions() as session:
            count = await session.scalar(sa.select(sa.func.count()).select_from(fiche_exports))
        assert count == 2, "the refused request stored nothing"
        # Someone else is not held to Marc's count.
        assert (await fiches.http.post("/api/fiches/exports", headers=other)).status_code == 202

        # A day after the first request, one export is allowed again.
        async with fiches.component.runtime.sessions() as session, session.begin():
            await session.execute(
                sa.update(fiche_exports)
                .where(fiche_exports.c.export_id == first.json()["export_id"])
                .values(requested_at=datetime.now(UTC) - timedelta(hours=25))
            )
        assert (await fiches.http.post("/api/fiches/exports", headers=marc)).status_code == 202
        assert (await fiches.http.post("/api/fiches/exports", headers=marc)).status_code == 429


async def test_the_ready_event_carries_the_correlation_id_of_the_request(
    world: dict[str, Any],
) -> None:
    """The worker produces an export later, outside the request; its ExportReady (and so
    the e-mail) carries the correlation id the requester was answered with."""
    fiches: FichesApp = world["fiches"]
    asked = await fiches.http.post(
        "/api/fiches/exports", headers=world["marc"], json={"formats": ["csv"]}
    )
    other = await fiches.http.post("/api/fiches/exports", headers=world["secretary"], json={})
    assert asked.status_code == other.status_code == 202
    ids = {
        asked.json()["export_id"]: asked.headers["X-Correlation-Id"],
        other.json()["export_id"]: other.headers["X-Correlation-Id"],
    }
    assert len(set(ids.values())) == 2

    assert await fiches.exports.produce_pending() == 2

    async with fiches.component.runtime.sessions() as session:
        rows = await session.execute(
            sa.select(outbox.c.headers, outbox.c.payload).where(
                outbox.c.topic == "fiches.exports.v1"
            )
        )
        carried = {
            json.loads(bytes(row.payload))["export_id"]: dict(row.headers).get("ce_correlationid")
            for row in rows
        }
    assert carried == ids
