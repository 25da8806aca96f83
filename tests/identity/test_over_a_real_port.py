"""identity as monolithic mode serves it: one uvicorn port, the development provider
mounted by `build_component`, and the relying party reaching it over real HTTP."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import httpx
import uvicorn

from identity.config import Settings
from identity.entrypoints.app import build_component
from servicekit.embedded_broker import free_loopback_port
from servicekit.http import api_app
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.identity.flows import REDIS_URL, wait_for_signing_key
from tests.support.infrastructure import wait_for


async def _started(server: uvicorn.Server) -> bool:
    return bool(server.started)


_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


async def test_a_citizen_logs_in_through_the_mounted_development_provider(
    kafka: KafkaSettings, tmp_path: Path
) -> None:
    port = free_loopback_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}",
        public_base_url=base,
        oidc_issuer=base + "/dev/idp",
        redis_url=REDIS_URL,
        redis_key_prefix=f"test:{uuid.uuid4().hex}:",
    )
    component = build_component(PlatformSettings(data_dir=tmp_path), kafka, settings)
    component.runtime.subscriptions.clear()
    app = api_app()
    for router in component.api_routers():
        app.include_router(router)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    await component.runtime.start()
    serving = asyncio.create_task(server.serve())
    try:
        await wait_for(lambda: _started(server), timeout_s=60)
        await wait_for_signing_key(component)
        async with httpx.AsyncClient(base_url=base) as browser:
            discovery = await browser.get("/dev/idp/.well-known/openid-configuration")
            assert discovery.json()["issuer"] == base + "/dev/idp"
            start = await browser.get("/api/identity/login", params={"as": "citizen"})
            page = await browser.get(start.headers["location"])
            form = dict(_HIDDEN.findall(page.text))
            assert "Lotte" in page.text and "demo person" in page.text
            chosen = await browser.post(
                base + "/dev/idp/authorize", data={**form, "person": "citizen"}
            )
            landed = await browser.get(chosen.headers["location"])
            assert landed.status_code == 303, landed.text
            me = await browser.get(landed.headers["location"])
            assert me.json()["roles"] == ["citizen"]
            assert me.json()["status"] == "needs_email"
    finally:
        server.should_exit = True
        await serving
        await component.runtime.stop()
