"""directory as its composition root builds it, for search tests.

`searchable_directory` builds the component with directory's own `build_component`.
Published fiches reach the read model through the projection's handlers (`*_event`
helpers build the events fiches publishes on the public topics).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from contracts.base import Event
from contracts.events.fiches import (
    DepublicationReason,
    OfferLinked,
    OfferUnlinked,
    OfferUnlinkReason,
    PracticeDepublicationReason,
    PracticeFicheDepublished,
    PracticeFichePublished,
    PracticeFicheUpdated,
    ProviderFicheDepublished,
    ProviderFichePublished,
    ProviderFicheUpdated,
    PublicAddress,
    PublicPracticeName,
    PublicProfession,
)
from directory.adapters.reference_geocoder import ReferenceGeocoder
from directory.config import DirectorySettings
from directory.entrypoints.app import build_component
from directory.handlers.projection import DirectoryProjection
from servicekit.component import ServiceComponent
from servicekit.http import api_app
from servicekit.settings import KafkaSettings, PlatformSettings


@dataclass
class Searchable:
    component: ServiceComponent
    http: httpx.AsyncClient
    projection: DirectoryProjection
    revisions: dict[str, int] = field(default_factory=dict)

    async def apply(self, *events: Event) -> None:
        """Events through the projection, as one consumed batch."""
        async with self.component.runtime.sessions() as session, session.begin():
            await self.projection.apply(session, events)

    def _revision(self, fiche_id: str) -> int:
        self.revisions[fiche_id] = self.revisions.get(fiche_id, 0) + 1
        return self.revisions[fiche_id]

    def provider_event(
        self,
        fiche_id: str,
        first: str,
        last: str,
        professions: Sequence[str] = ("physician",),
        *,
        languages: Sequence[str] = ("nl",),
        preferred_name: str | None = None,
        update: bool = False,
        qualification_code: str | None = None,
        riziv_number: str | None = "11234508003",
    ) -> ProviderFichePublished | ProviderFicheUpdated:
        """`qualification_code` and `riziv_number` are published with every profession."""
        cls = ProviderFicheUpdated if update else ProviderFichePublished
        return cls(
            fiche_id=fiche_id,
            professional_id=f"prof-{fiche_id}",
            official_first_name=first,
            official_last_name=last,
            professions=tuple(
                PublicProfession(
                    profession=p, riziv_number=riziv_number, qualification_code=qualification_code
                )
                for p in professions
            ),
            revision=self._revision(fiche_id),
            occurred_at=datetime.now(UTC),
            preferred_name=preferred_name,
            languages=tuple(languages),
        )

    def practice_event(
        self,
        practice_id: str,
        name: str,
        *,
        postcode: str = "9000",
        municipality: str = "Gent",
        street: str = "Kerkstraat",
        target_groups: Sequence[str] = (),
        extra_offer: Sequence[str] = (),
        update: bool = False,
    ) -> PracticeFichePublished | PracticeFicheUpdated:
        cls = PracticeFicheUpdated if update else PracticeFichePublished
        return cls(
            practice_id=practice_id,
            name=name,
            names=(PublicPracticeName(name=name, preferred=True),),
            addresses=(
                PublicAddress(
                    street=street,
                    number="1",
                    postcode=postcode,
                    municipality=municipality,
                    preferred=True,
                ),
            ),
            target_groups=tuple(target_groups),
            extra_offer=tuple(extra_offer),
            revision=self._revision(practice_id),
            occurred_at=datetime.now(UTC),
        )

    @staticmethod
    def link(practice_id: str, fiche_id: str, profession: str = "physician") -> OfferLinked:
        return OfferLinked(
            practice_id=practice_id,
            provider_fiche_id=fiche_id,
            professional_id=f"prof-{fiche_id}",
            profession=profession,
            occurred_at=datetime.now(UTC),
        )

    @staticmethod
    def unlink(practice_id: str, fiche_id: str, profession: str = "physician") -> OfferUnlinked:
        return OfferUnlinked(
            practice_id=practice_id,
            provider_fiche_id=fiche_id,
            professional_id=f"prof-{fiche_id}",
            profession=profession,
            reason=OfferUnlinkReason.STOPPED,
            occurred_at=datetime.now(UTC),
        )

    @staticmethod
    def provider_gone(fiche_id: str) -> ProviderFicheDepublished:
        return ProviderFicheDepublished(
            fiche_id=fiche_id,
            professional_id=f"prof-{fiche_id}",
            reason=DepublicationReason.VISA_INACTIVE,
            occurred_at=datetime.now(UTC),
        )

    @staticmethod
    def practice_gone(practice_id: str) -> PracticeFicheDepublished:
        return PracticeFicheDepublished(
            practice_id=practice_id,
            reason=PracticeDepublicationReason.REMOVAL_REQUEST,
            occurred_at=datetime.now(UTC),
        )

    search_path: str = "/api/fiches/search"
    """The old address, which the directory still serves (tests of the new one set it)."""

    async def search(self, **params: Any) -> httpx.Response:
        return await self.http.get(self.search_path, params=params)

    async def ids(self, **params: Any) -> list[str]:
        response = await self.search(**params)
        assert response.status_code == 200, response.text
        return [hit["id"] for hit in response.json()["items"]]


@asynccontextmanager
async def searchable_directory(
    url: str,
    tmp_path: Path,
    *,
    kafka: KafkaSettings | None = None,
    response_cache_entries: int | None = None,
    public_base_url: str = "",
    geocoder: str = "reference",
) -> AsyncIterator[Searchable]:
    """`response_cache_entries`: the setting's default unless given (0: no cache);
    `public_base_url`: SKAART_PUBLIC_BASE_URL (the gateway's address); `geocoder`:
    DIRECTORY_GEOCODER (the requests' geocoder; the projection keeps the reference one)."""
    platform = PlatformSettings(data_dir=tmp_path / "data", public_base_url=public_base_url)
    settings = DirectorySettings(database_url=url, geocoder=geocoder)
    if response_cache_entries is not None:
        settings = settings.model_copy(update={"response_cache_entries": response_cache_entries})
    component = build_component(platform, kafka or KafkaSettings(), settings)
    await component.runtime.migrate()
    app = api_app()
    for router in component.api_routers():
        app.include_router(router)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    projection = DirectoryProjection(ReferenceGeocoder())
    try:
        yield Searchable(component, client, projection)
    finally:
        await client.aclose()
        await component.runtime.stop()  # its engines, the public reads' one included


MARC, NELE = "0b0c1b2e-0000-4000-8000-00000000000a", "0b0c1b2e-0000-4000-8000-00000000000b"
WARM, SOLO = "0b0c1b2e-0000-4000-8000-0000000000a1", "0b0c1b2e-0000-4000-8000-0000000000a2"


async def two_practices(directory: Searchable) -> None:
    """Marc (GP, nl/fr) at Het Warmste Team (Gent) and at his solo practice (Lokeren,
    about 20 km away); Nele (nurse) at Het Warmste Team."""
    await directory.apply(
        directory.provider_event(MARC, "Marc", "Creemers", languages=("nl", "fr")),
        directory.provider_event(NELE, "Nele", "Van Schelvergem", ("nurse",)),
        directory.practice_event(WARM, "Het Warmste Team"),
        directory.practice_event(
            SOLO, "Praktijk Creemers", postcode="9160", municipality="Lokeren"
        ),
        directory.link(WARM, MARC),
        directory.link(WARM, NELE, "nurse"),
        directory.link(SOLO, MARC),
    )


@asynccontextmanager
async def warm_team_directory(url: str, tmp_path: Path) -> AsyncIterator[Searchable]:
    """A directory whose map holds one practice, Het Warmste Team, with two offer blocks:
    Marc Creemers (physician) and Nele Van Schelvergem (nurse)."""
    async with searchable_directory(url, tmp_path) as directory:
        await directory.apply(
            directory.provider_event(MARC, "Marc", "Creemers"),
            directory.provider_event(NELE, "Nele", "Van Schelvergem", ("nurse",)),
            directory.practice_event(WARM, "Het Warmste Team"),
            directory.link(WARM, MARC),
            directory.link(WARM, NELE, "nurse"),
        )
        yield directory


def new_id() -> str:
    return str(uuid.uuid4())


async def migrate_to(engine: Any, revision: str, *, down: bool = False) -> None:
    """Upgrade (or downgrade) the directory's database to `revision` with its migrations."""
    from alembic import command

    from servicekit.database import alembic_config

    def run(connection: Any) -> None:
        config = alembic_config("directory.migrations", connection)
        (command.downgrade if down else command.upgrade)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)
