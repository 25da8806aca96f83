"""Rotation without downtime: a new key is announced before it signs, the old one stays
valid until its last token has expired."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from contracts.events.identity import SIGNING_KEYS_TOPIC
from servicekit.auth import AccessTokenVerifier
from servicekit.settings import KafkaSettings
from tests.identity.flows import login, query_of, running_identity
from tests.support.kafka_reading import read_topic


async def test_a_rotated_key_is_announced_first_and_the_old_tokens_stay_valid(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    async with running_identity(kafka, tmp_path) as identity:
        use_cases = identity.component.use_cases
        async with identity.browser() as browser:
            assert (await login(browser, "citizen", login_as="citizen")).status_code == 303
            await browser.put("/api/identity/me/email", json={"email": "lotte@example.be"})
            (link,) = await identity.activation_links()
            await browser.post("/api/identity/activate", data={"token": query_of(link)["token"]})

            async def token() -> str:
                answer = await browser.post("/api/identity/token")
                assert answer.status_code == 200, answer.text
                return str(answer.json()["access_token"])

            before = await token()
            old_kid = jwt.get_unverified_header(before)["kid"]
            async with identity.component.runtime.sessions.begin() as session:
                new_kid, retiring = await use_cases.keys.rotate(session, timedelta(seconds=1.5))
            identity.component.runtime.outbox.notify_committed()
            assert retiring == [old_kid]
            during = await token()
            assert jwt.get_unverified_header(during)["kid"] == old_kid  # grace: old key signs
            await asyncio.sleep(1.6)
            after = await token()
            assert jwt.get_unverified_header(after)["kid"] == new_kid

        # What a verifying service learnt from the topic, in order.
        await identity.outbox_drained()
        announced = [json.loads(r.value) for r in await read_topic(kafka, SIGNING_KEYS_TOPIC)]
        kids = [event["kid"] for event in announced]
        assert new_kid in kids and old_kid in kids
        old_final = [e for e in announced if e["kid"] == old_kid][-1]
        new_first = next(e for e in announced if e["kid"] == new_kid)
        retire_after = datetime.fromisoformat(old_final["retire_after"])
        not_before = datetime.fromisoformat(new_first["not_before"])
        ttl = timedelta(seconds=identity.settings.access_token_ttl_s)
        assert retire_after >= not_before + ttl
        assert datetime.fromisoformat(new_first["occurred_at"]) < not_before

        jwks = json.dumps({"keys": [e["public_jwk"] for e in announced]})
        verifier = AccessTokenVerifier(sessions=None, table=None, static_jwks=jwks)
        for signed in (before, during, after):
            assert (await verifier.verify(signed)).user_id
        assert datetime.now(UTC) < retire_after


async def test_a_key_does_not_sign_while_its_announcement_is_unpublished(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    async with running_identity(kafka, tmp_path) as identity:
        keys = identity.component.use_cases.keys
        async with identity.component.runtime.sessions() as session:
            old = (await keys.current(session)).kid
        async with identity.component.runtime.sessions.begin() as session:
            fresh = await keys.create(session, not_before=datetime.now(UTC))
            # Its announcement sits in the outbox (this transaction): not usable yet.
            assert (await keys.current(session)).kid == old
        await identity.outbox_drained()
        async with identity.component.runtime.sessions() as session:
            assert (await keys.current(session)).kid == fresh
