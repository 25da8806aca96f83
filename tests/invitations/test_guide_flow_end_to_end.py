"""The guide's flow 3 end to end: identity, fiches, notifications and invitations on one
broker, mail through the real local SMTP server (the development mailbox).

Marc (GP) creates Het Warmste Team and invites Nele (nurse) by e-mail. The mail arrives,
Nele follows the link, logs in, ticks her nursing offer and confirms; the link shows on
the practice fiche and in her own "am I on the map?", and Marc is told by e-mail. And
afterwards, no database file and no topic holds a mailed link or an address in clear.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component as build_fiches
from identity.devidp.people import DemoPerson, demo_people
from invitations.entrypoints.app import build_component as build_invitations
from notifications.adapters.dev_mailbox import StoredMessage
from notifications.config import Settings as NotificationSettings
from notifications.entrypoints.app import build_component as build_notifications
from servicekit.auth import AuthSettings
from servicekit.http import api_app
from servicekit.settings import KafkaSettings, PlatformSettings
from servicekit.waiting import within
from tests.identity.flows import RunningIdentity, login, query_of, running_identity
from tests.identity.registry_facts import demo_record, register, registered
from tests.invitations.harness import delete_prefixed_keys, invitation_settings
from tests.support.infrastructure import wait_for
from tests.support.kafka_publishing import publish_events
from tests.support.secrets_at_rest import (
    found_in_files,
    found_in_topics,
    sqlite_files,
    topic_bytes,
)

pytestmark = pytest.mark.e2e

MARC_ADDRESS = "marc.creemers@example.be"
NELE_ADDRESS = "nele.vanschelvergem@example.be"
PUBLIC_BASE = "http://127.0.0.1:8000"


def _mail_to(mailbox: Any, address: str, subject_has: str = "") -> Callable[[], Awaitable[Any]]:
    async def found() -> StoredMessage | None:
        for stored in mailbox.stored():
            if address in stored.to and subject_has in stored.subject:
                return stored  # type: ignore[no-any-return]
        return None

    return found


async def _access_token(
    identity: RunningIdentity, mailbox: Any, person: DemoPerson, address: str
) -> str:
    """First login as professional: address, activation mail, activation, access token."""
    async with identity.browser() as browser:
        assert (await login(browser, person.key)).status_code == 303
        given = await browser.put("/api/identity/me/email", json={"email": address})
        assert given.status_code == 202, given.text
        mail = await wait_for(_mail_to(mailbox, address), timeout_s=60)
        (link,) = [url for url in mail.links() if "/activeren?token=" in url]
        activated = await browser.post(
            "/api/identity/activate", data={"token": query_of(link)["token"]}
        )
        assert activated.status_code == 200, activated.text
        issued = await browser.post("/api/identity/token")
        assert issued.status_code == 200, issued.text
        return str(issued.json()["access_token"])


async def _no_link_or_address_in_clear_at_rest(
    kafka: KafkaSettings, folder: Path, mailbox: Any
) -> None:
    """The tokens of every mailed link, and the addresses, are in no data file and no topic.

    The files are read while the services run, so `-wal` files with rows the outbox relay
    deleted and deliveries erased after sending are searched too. identity's own database
    is searched for tokens only: it keeps each user's address to show it back to them.
    """
    links = [link for stored in mailbox.stored() for link in stored.links()]
    tokens = [query_of(link)["token"] for link in links if "token=" in link]
    assert len(tokens) >= 3, links  # two activation links and one invitation link
    addresses = [MARC_ADDRESS, NELE_ADDRESS]
    files = sqlite_files(folder)
    names = {path.name for path in files}
    assert {"notifications.db", "invitations.db", "identity.db", "fiches.db"} <= names
    assert any(name.endswith("-wal") for name in names), names
    not_identity = [path for path in files if not path.name.startswith("identity.db")]
    # The search finds what is there: identity's users table holds the addresses.
    assert found_in_files([folder / "identity.db", folder / "identity.db-wal"], addresses)
    assert found_in_files(files, tokens) == []
    assert found_in_files(not_identity, addresses) == []
    assert found_in_topics(await topic_bytes(kafka), [*tokens, *addresses]) == []


async def test_marc_invites_nele_who_follows_the_mailed_link_and_is_linked(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    people = {person.key: person for person in demo_people()}
    marc, nele = people["professional-4"], people["professional-6"]  # physician, nurse
    platform = PlatformSettings(data_dir=tmp_path / "data")
    redis_prefix = f"test:invitations:{uuid.uuid4().hex}:"
    fiches = build_fiches(
        platform,
        kafka,
        FichesSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'fiches.db'}"),
        AuthSettings(),
    )
    notifications = build_notifications(
        platform,
        kafka,
        NotificationSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}",
            sender_poll_s=0.1,
        ),
    )
    invitations = build_invitations(
        platform,
        kafka,
        invitation_settings(
            f"sqlite+aiosqlite:///{tmp_path / 'invitations.db'}",
            redis_prefix,
            public_base_url=PUBLIC_BASE,
        ),
        AuthSettings(),
    )
    mailbox = notifications.mailbox
    assert mailbox is not None, "development mode without an SMTP host runs the local mailbox"
    app = api_app()
    for component in (fiches, notifications, invitations):
        for router in component.api_routers():
            app.include_router(router)
    services = [fiches, notifications, invitations]
    for component in services:  # one at a time: Alembic's migration context is global
        await component.runtime.start()
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_BASE)
    try:
        async with running_identity(kafka, tmp_path) as identity:
            await within(mailbox.ready.wait(), 60)
            marc_id = await register(identity.component, marc)
            nele_id = await register(identity.component, nele)
            await publish_events(
                kafka,
                registered(marc_id, demo_record(marc)),
                registered(nele_id, demo_record(nele)),
            )
            marc_token = await _access_token(identity, mailbox, marc, MARC_ADDRESS)
            nele_token = await _access_token(identity, mailbox, nele, NELE_ADDRESS)
            as_marc = {"Authorization": f"Bearer {marc_token}"}
            as_nele = {"Authorization": f"Bearer {nele_token}"}

            async def provider_fiches_and_keys_arrived() -> bool:
                answer = await api.get("/api/fiches/me/map-status", headers=as_nele)
                return answer.status_code == 200

            await wait_for(provider_fiches_and_keys_arrived, timeout_s=60)

            # Marc creates the practice fiche with his own offer: he manages it.
            created = await api.post(
                "/api/fiches/practices?publish=true",
                json={"names": [{"name": "Het Warmste Team"}], "offers": ["physician"]},
                headers=as_marc,
            )
            assert created.status_code == 201, created.text
            practice_id = created.json()["practice_id"]

            async def invited() -> httpx.Response | None:
                # invitations learns that Marc manages it from fiches.managers.v1.
                answer = await api.post(
                    f"/api/invitations/practices/{practice_id}/invitations",
                    json={"emails": [NELE_ADDRESS], "profession": "nurse"},
                    headers=as_marc,
                )
                return answer if answer.status_code == 201 else None

            invitation = (await wait_for(invited, timeout_s=60)).json()["results"][0]
            assert invitation["outcome"] == "invited"

            mail = await wait_for(_mail_to(mailbox, NELE_ADDRESS, "Het Warmste Team"), timeout_s=60)
            (link,) = [url for url in mail.links() if "/uitnodiging" in url]
            # The mail opens the portal's invitation page, which reads the invitation here.
            assert link.startswith(PUBLIC_BASE + "/uitnodiging?token=")
            assert urlsplit(link).path == "/uitnodiging"
            followed = await api.get("/api/invitations/link", params=query_of(link))
            assert followed.status_code == 200, followed.text
            assert followed.json()["practice_name"] == "Het Warmste Team"
            assert followed.json()["profession"] == "nurse"

            accepted = await api.post(
                "/api/invitations/link/accept",
                json={"token": query_of(link)["token"], "professions": ["nurse"]},
                headers=as_nele,
            )
            assert accepted.status_code == 200, accepted.text

            async def linked_on_the_practice() -> bool:
                answer = await api.get(f"/api/fiches/practices/{practice_id}")
                blocks = {
                    block["profession"]: {p["professional_id"] for p in block["providers"]}
                    for block in answer.json()["offer_blocks"]
                }
                return nele_id in blocks.get("nurse", set())

            await wait_for(linked_on_the_practice, timeout_s=60)
            status = await api.get(
                "/api/fiches/me/map-status",
                headers=as_nele,
                params={"practice": ["Het Warmste Team"]},
            )
            situations = {p["name"]: p["situation"] for p in status.json()["practices"]}
            assert situations == {"Het Warmste Team": "ready"}

            told = await wait_for(_mail_to(mailbox, MARC_ADDRESS, "Het Warmste Team"), 60)
            assert told is not None
            again = await api.post(
                "/api/invitations/link/accept",
                json={"token": query_of(link)["token"], "professions": ["nurse"]},
                headers=as_nele,
            )
            assert again.status_code == 410

            await _no_link_or_address_in_clear_at_rest(kafka, tmp_path, mailbox)
    finally:
        await api.aclose()
        for component in reversed(services):
            await component.runtime.stop()
        await delete_prefixed_keys(redis_prefix)
