"""Only SKAART_HTTP_PORT set: every public address follows it, and logging in works.

Before, the issuer and the public addresses stayed on port 8000: login answered 502 while
/readyz said ready. Readiness now also asks the identity provider's discovery.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn

from identity.entrypoints.app import IdentityComponent
from servicekit.embedded_broker import free_loopback_port
from servicekit.settings import KafkaSettings, PlatformSettings
from skaart.components import BUILDERS
from skaart.monolith import monolith_app
from tests.identity.flows import wait_for_signing_key
from tests.support.infrastructure import wait_for

_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def _identity_as_skaart_up_builds_it(
    kafka: KafkaSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> IdentityComponent:
    # Its own Redis keys: the login rate limit counts per address in a shared Redis.
    monkeypatch.setenv("IDENTITY_REDIS_KEY_PREFIX", f"test:{uuid.uuid4().hex}:")
    platform = PlatformSettings(data_dir=tmp_path)
    component = BUILDERS["identity"](platform, kafka)
    assert isinstance(component, IdentityComponent)
    return component


async def test_a_monolith_on_another_port_logs_in_with_only_the_port_set(
    kafka: KafkaSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_loopback_port()
    monkeypatch.setenv("SKAART_HTTP_PORT", str(port))
    for name in ("SKAART_PUBLIC_BASE_URL", "IDENTITY_PUBLIC_BASE_URL", "IDENTITY_OIDC_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    base = f"http://127.0.0.1:{port}"
    identity = _identity_as_skaart_up_builds_it(kafka, tmp_path, monkeypatch)
    server = uvicorn.Server(
        uvicorn.Config(monolith_app([identity]), host="127.0.0.1", port=port, log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    try:
        async with httpx.AsyncClient(base_url=base) as browser:

            async def ready() -> bool:
                try:
                    return (await browser.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(ready, timeout_s=120)
            readiness = (await browser.get("/readyz")).json()
            assert readiness["components"]["identity"]["identity_provider"] == "ok"
            await wait_for_signing_key(identity)

            start = await browser.get("/api/identity/login", params={"as": "citizen"})
            assert start.status_code in (302, 303, 307), start.text
            assert start.headers["location"].startswith(base + "/dev/idp/authorize?")
            query = parse_qs(urlsplit(start.headers["location"]).query)
            assert query["redirect_uri"] == [base + "/api/identity/login/callback"]
            page = await browser.get(start.headers["location"])
            form = dict(_HIDDEN.findall(page.text))
            chosen = await browser.post(
                base + "/dev/idp/authorize", data={**form, "person": "citizen"}
            )
            assert chosen.headers["location"].startswith(base + "/api/identity/login/callback")
            landed = await browser.get(chosen.headers["location"])
            assert landed.status_code == 303, landed.text
            me = await browser.get(landed.headers["location"])
            assert me.status_code == 200, me.text
            assert me.json()["roles"] == ["citizen"]
    finally:
        server.should_exit = True
        await serving


async def test_readiness_says_why_while_the_identity_provider_does_not_answer(
    kafka: KafkaSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    silent = f"http://127.0.0.1:{free_loopback_port()}/fas"  # nothing listens there
    monkeypatch.setenv("IDENTITY_OIDC_ISSUER", silent)
    identity = _identity_as_skaart_up_builds_it(kafka, tmp_path, monkeypatch)
    try:
        checks = await identity.runtime.readiness()
    finally:
        await identity.runtime.engine.dispose()
    reason = checks["identity_provider"]
    assert reason != "ok"
    assert f"OpenID discovery at {silent}/.well-known/openid-configuration failed" in reason
    assert "unreachable" in reason and "IDENTITY_OIDC_ISSUER" in reason
