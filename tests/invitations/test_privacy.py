"""No token and no invitee address in clear in the database or in any log line."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from invitations.adapters.tables import invitations
from tests.invitations.harness import invitations_under_test
from tests.invitations.privacy import formatted, leaks, table_dump

PRACTICE = "practice-warmste-team"
MANAGER = "user-marc"
ADDRESSES = ["nele.vanschelvergem@example.be", "jan.peeters@example.be", "an.smets@example.be"]


async def test_tables_and_logs_hold_no_token_and_no_address_in_clear(
    database_url_factory, tmp_path: Path, platform_logging: pytest.LogCaptureFixture
) -> None:
    async with invitations_under_test(await database_url_factory("invitations"), tmp_path) as svc:
        await svc.practice(PRACTICE, [MANAGER])
        results = (await svc.invite(PRACTICE, MANAGER, ADDRESSES)).json()["results"]
        ids = [result["invitation_id"] for result in results]
        await svc.http.post(f"/api/invitations/{ids[1]}/resend", headers=svc.manager(MANAGER))
        tokens = [await svc.token_of(invitation_id) for invitation_id in ids]
        mails = await svc.mail_requests()
        tokens += [url.rsplit("=", 1)[-1] for url in (m["accept_url"] for m in mails)]
        await svc.http.post(
            "/api/invitations/link/accept",
            json={"token": tokens[0], "professions": ["nurse"]},
            headers=svc.professional("prof-nele", ["nurse"]),
        )
        await svc.http.post("/api/invitations/link/decline", json={"token": tokens[2]})
        await svc.http.post(  # a refused attempt: error paths log too
            "/api/invitations/link/accept",
            json={"token": tokens[1] + "x", "professions": ["nurse"]},
            headers=svc.professional("prof-jan", ["nurse"]),
        )
        secrets = set(ADDRESSES) | set(tokens)

        dump = await table_dump(svc.sessions)
        assert "invitations" in dump and "practice_managers" in dump
        # The outbox holds the restricted mail requests until the relay publishes them
        # (and deletes the rows); nothing else there carries a secret.
        async with svc.sessions() as session:
            outbox_rows = (
                await session.execute(sa.text("SELECT topic, payload FROM outbox_messages"))
            ).all()
        for topic, payload in outbox_rows:
            if topic != "invitations.deliveries.v1":
                assert leaks(bytes(payload).decode(), secrets) == [], topic
        for table, text in dump.items():
            if table != "outbox_messages":
                assert leaks(text, secrets) == [], f"{table} holds a secret in clear"

        async with svc.sessions() as session:
            sealed = dict(
                (
                    await session.execute(
                        sa.select(invitations.c.invitation_id, invitations.c.sealed_address)
                    )
                ).all()
            )
        # Only the open invitation still keeps its (encrypted) address, for a resend.
        assert sealed[ids[0]] is None and sealed[ids[2]] is None
        assert sealed[ids[1]] is not None

    lines = formatted(platform_logging.records)
    assert any("invitation issued" in line for line in lines)
    for line in lines:
        assert leaks(line, secrets) == [], line
