"""fiches and directory on the real broker: what fiches publishes on the public topics
reaches the directory's search (its own consumer group and database), and an edit saved
without publishing never does."""

from __future__ import annotations

from pathlib import Path

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
