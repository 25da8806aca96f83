"""fiches and directory on the real broker: what fiches publishes on the public topics
reaches the directory's search (its own consumer group and database), and an edit saved
without publishing never does."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event

from servicekit.settings import KafkaSettings
from tests.directory.support import searchable_directory
from tests.fiches_exports.support import fiches_app
from tests.fiches_exports.test_exports import create_practice, marc_headers, register
from tests.support.infrastructure import wait_for


async def test_published_fiches_reach_the_directory_search(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    fiches_url = f"sqlite+aiosqlite:///{tmp_path / 'fiches.db'}"
    directory_url = f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}"
    async with (
        fiches_app(fiches_url, tmp_path, kafka=kafka) as fiches,
        searchable_directory(directory_url, tmp_path, kafka=kafka) as directory,
    ):
        await fiches.component.runtime.start()
        await directory.component.runtime.start()
        try:
            marc_id = await register(fiches, "Marc", "Creemers")
            fiches.component.runtime.outbox.notify_committed()
            marc = marc_headers(fiches, "user-marc", marc_id)
            practice_id = await create_practice(
                fiches, marc, {"names": [{"name": "Praktijk Creemers"}]}, ["physician"]
            )
            # An edit saved but not published must never reach search.
            draft = await fiches.http.put(
                f"/api/fiches/practices/{practice_id}/edit",
                headers=marc,
                json={"names": [{"name": "Praktijk Geheim"}]},
            )
            assert draft.status_code == 200, draft.text

            async def found() -> list[dict[str, object]] | None:
                hits = (await directory.search(q="creemers")).json()["items"]
                practice = [h for h in hits if h["type"] == "practice"]
                if len(hits) == 2 and practice and practice[0]["offer_blocks"]:
                    return list(hits)
                return None

            hits = await wait_for(found, timeout_s=30)
            assert [h["type"] for h in hits] == ["provider", "practice"]
            assert hits[1]["offer_blocks"][0]["providers"][0]["name"] == "Marc Creemers"
            assert await directory.ids(q="geheim") == []
            # The new address answers the same.
            new = await directory.http.get("/api/directory/search", params={"q": "creemers"})
            assert [h["id"] for h in new.json()["items"]] == [h["id"] for h in hits]
        finally:
            await directory.component.runtime.stop()
            await fiches.component.runtime.stop()


async def test_the_directory_runs_no_outbox_relay_as_it_publishes_nothing(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    """A relay would read the directory's always-empty outbox ten times a second, for as
    long as each replica runs."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}"
    async with searchable_directory(url, tmp_path, kafka=kafka) as directory:
        statements: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        engine = directory.component.runtime.engine.sync_engine
        event.listen(engine, "before_cursor_execute", seen)
        await directory.component.runtime.start()
        try:
            await asyncio.sleep(2)  # twenty polls of a relay
        finally:
            await directory.component.runtime.stop()
            event.remove(engine, "before_cursor_execute", seen)
        # Starting checks the migrations: the listener saw the directory's statements.
        assert any("alembic_version" in s for s in statements)
        assert [s for s in statements if "outbox" in s] == []
