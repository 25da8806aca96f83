"""Exports with the real broker: ExportReady reaches the restricted topic."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from contracts.events.identity import Role
from servicekit.settings import KafkaSettings
from tests.fiches_exports.support import fiches_app, signed_export_settings
from tests.fiches_exports.test_exports import create_practice, marc_headers, register
from tests.support.infrastructure import wait_for
from tests.support.kafka_reading import header, read_topic


async def test_export_links_reach_their_topic(kafka: KafkaSettings, tmp_path: Path) -> None:
    settings = signed_export_settings(poll_interval_s=0.2)
    url = f"sqlite+aiosqlite:///{tmp_path / 'fiches.db'}"
    async with fiches_app(url, tmp_path, kafka=kafka, export_settings=settings) as fiches:
        runtime = fiches.component.runtime
        await runtime.start()
        try:
            marc_id = await register(fiches, "Marc", "Creemers")
            runtime.outbox.notify_committed()
            marc = marc_headers(fiches, "user-marc", marc_id)
            await create_practice(
                fiches, marc, {"names": [{"name": "Praktijk Creemers"}]}, ["physician"]
            )
            citizen = fiches.signer.headers("user-citizen", roles=(Role.CITIZEN,))
            assert (
                await fiches.http.post("/api/fiches/exports", headers=citizen)
            ).status_code == 202
            export_id = (await fiches.http.post("/api/fiches/exports", headers=marc)).json()[
                "export_id"
            ]

            async def on_topic() -> list[object] | None:
                records = await read_topic(kafka, "fiches.exports.v1")
                mine = [r for r in records if r.key == export_id.encode()]
                return mine or None

            record = (await wait_for(on_topic, timeout_s=60))[0]  # type: ignore[index]
            assert str(header(record, "ce_type")).endswith("fiches.ExportReady")
            event = json.loads(record.value)
            assert event["user_id"] == "user-marc"
            link = urlsplit(event["download_url"])
            assert link.netloc == "sociale-kaart.example"
            # The mail opens the portal's page, which downloads from the API.
            export_id = link.path.removeprefix("/exports/").removesuffix("/downloaden")
            assert link.path == f"/exports/{export_id}/downloaden"
            download = await fiches.http.get(
                f"/api/fiches/exports/{export_id}/download?{link.query}&format=json"
            )
            assert download.status_code == 200
            assert {f["fiche_type"] for f in download.json()["fiches"]} == {"provider", "practice"}
        finally:
            await runtime.stop()
