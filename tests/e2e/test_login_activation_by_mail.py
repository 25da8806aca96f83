"""Flow 1 of the guide across services: log in, give an address, receive the activation
mail through the real local SMTP server, follow the link, get an access token.

identity and notifications run as in monolithic mode: separate databases, talking only
over the broker (identity.users.v1), the mail going through aiosmtpd. The activation link
is read from the delivered message, not from the topic: that is the hop a newcomer uses.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from identity.devidp.people import demo_people
from notifications.adapters.dev_mailbox import StoredMessage
from notifications.config import Settings as NotificationsSettings
from notifications.entrypoints.app import build_component as build_notifications
from servicekit.settings import KafkaSettings, PlatformSettings
from servicekit.waiting import within
from tests.identity.flows import login, query_of, running_identity
from tests.support.infrastructure import wait_for

pytestmark = pytest.mark.e2e


async def test_a_citizen_activates_their_profile_from_the_mail_and_gets_an_access_token(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    citizen = next(person for person in demo_people() if person.key == "citizen")
    notifications = build_notifications(
        PlatformSettings(data_dir=tmp_path / "notifications-data"),
        kafka,
        NotificationsSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}",
            sender_poll_s=0.1,
        ),
    )
    mailbox = notifications.mailbox
    assert mailbox is not None, "development mode without an SMTP host runs the local server"
    await notifications.runtime.start()
    try:
        await within(mailbox.ready.wait(), 60)
        async with running_identity(kafka, tmp_path) as identity, identity.browser() as browser:
            assert (await login(browser, citizen.key, login_as="citizen")).status_code == 303
            assert (await browser.post("/api/identity/token")).status_code == 403

            given = await browser.put(
                "/api/identity/me/email", json={"email": "an.citizen@example.be"}
            )
            assert given.status_code == 202, given.text

            async def delivered() -> list[StoredMessage]:
                return list(mailbox.stored())

            (mail,) = await wait_for(delivered, timeout_s=60)
            assert mail.to == "an.citizen@example.be"
            links = [link for link in mail.links() if "/activeren?token=" in link]
            assert links, "the activation mail carries the link"
            link = links[0]
            assert link in mail.part("plain") and link in mail.part("html")

            # The link opens the portal's page, which posts its token to identity.
            assert urlsplit(link).path == "/activeren"
            activated = await browser.post(
                "/api/identity/activate", data={"token": query_of(link)["token"]}
            )
            assert activated.status_code == 200, activated.text
            issued = await browser.post("/api/identity/token")
            assert issued.status_code == 200, issued.text
            assert issued.json()["access_token"]

            # The link was single-use: the second click is refused.
            again = await browser.post(
                "/api/identity/activate", data={"token": query_of(link)["token"]}
            )
            assert again.status_code == 410
    finally:
        await notifications.runtime.stop()
