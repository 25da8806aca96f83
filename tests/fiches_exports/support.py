"""fiches as its composition root builds it, for export tests.

`fiches_app` builds the component with fiches' own `build_component` (test export
settings and a test token signer) and serves its routes in-process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from fiches.config import FichesSettings
from fiches.entrypoints.app import build_component
from fiches.handlers.exports import ExportSettings, ExportWorker
from servicekit.auth import AuthSettings
from servicekit.component import ServiceComponent
from servicekit.http import api_app
from servicekit.settings import KafkaSettings, PlatformSettings
from tests.support.auth import TokenSigner

EXPORT_KEY = "test-export-signing-key-0123456789abcdef"


@dataclass
class FichesApp:
    component: ServiceComponent
    http: httpx.AsyncClient
    signer: TokenSigner
    exports: ExportWorker


def signed_export_settings(**overrides: Any) -> ExportSettings:
    """The tests' export settings: a fixed key, and the public address links are built on."""
    return ExportSettings(
        signing_key=EXPORT_KEY,  # type: ignore[arg-type]
        public_base_url="https://sociale-kaart.example",
        **overrides,
    )


@asynccontextmanager
async def fiches_app(
    url: str,
    tmp_path: Path,
    *,
    kafka: KafkaSettings | None = None,
    export_settings: ExportSettings | None = None,
) -> AsyncIterator[FichesApp]:
    signer = TokenSigner()
    platform = PlatformSettings(data_dir=tmp_path / "data")
    settings = FichesSettings(database_url=url, check_revoked_sessions=False)
    auth = AuthSettings(trusted_jwks=signer.jwks())
    component = build_component(
        platform,
        kafka or KafkaSettings(),
        settings,
        auth,
        export_settings or signed_export_settings(),
    )
    exports = component.exports
    assert exports is not None
    await component.runtime.migrate()
    app = api_app()
    for router in component.api_routers():
        app.include_router(router)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:
        yield FichesApp(component, client, signer, exports)
    finally:
        await client.aclose()
        await component.runtime.engine.dispose()
