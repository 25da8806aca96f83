"""The measured floor of bench/pipeline.py: the least work fiches must do per registry event.

For each `ProfessionalRegistered` record: read its CloudEvents id from the headers, decode
its JSON value with orjson (no pydantic, no validation), and write the rows fiches writes
for it: the provider fiche, the outbox row of its `ProviderFichePublished` (when the
person may practise) and the inbox row. One transaction per batch, one driver-level
`executemany` per table (sqlite3 or asyncpg, no SQLAlchemy), into a database with fiches'
own schema (its migrations). Not done, though fiches does it: header checks, the
inbox lookup of already-applied ids, loading existing fiches, the other event types.

Tested against fiches' own consumer in tests/unit/test_pipeline_floor.py: same rows.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from contracts.events.fiches import PROVIDERS_TOPIC, ProviderFichePublished
from contracts.events.registry import ProfessionalRegistered

CONSUMER = "registry-professionals"  # fiches' subscription: the inbox's consumer column
SOURCE = "/skaart/fiches"
REGISTERED = ProfessionalRegistered.event_type.encode()
PUBLISHED = ProviderFichePublished.event_type
_PUBLIC_KEYS = ("profession", "riziv_number", "qualification_code", "convention", "diplomas")

_FICHE_COLUMNS = (
    "fiche_id, professional_id, official_last_name, official_first_name, search_name, "
    "language, professions, profession_codes, practice_ban, deceased, may_practise, "
    "registry_version, published, revision, depublication_reason, updated_at, own_draft, "
    "own_published, own_version"
)
_OUTBOX_COLUMNS = "event_id, topic, message_key, headers, payload, created_at"
_INBOX_COLUMNS = 'consumer, event_id, topic, partition, "offset", processed_at'


def _insert(table: str, columns: str, placeholders: list[str]) -> str:
    return f"INSERT INTO {table} ({columns}) VALUES ({', '.join(placeholders)})"


def _statements(placeholder: Any) -> tuple[str, str, str]:
    return tuple(  # type: ignore[return-value]
        _insert(table, columns, [placeholder(n) for n in range(1, columns.count(",") + 2)])
        for table, columns in (
            ("provider_fiches", _FICHE_COLUMNS),
            ("outbox_messages", _OUTBOX_COLUMNS),
            ("inbox_messages", _INBOX_COLUMNS),
        )
    )


def _utc_z(moment: datetime) -> str:
    """A UTC moment as pydantic writes it in JSON."""
    return moment.isoformat().replace("+00:00", "Z")


class FloorRows:
    """The three kinds of rows of a batch of registrations, as the driver takes them.

    `moment` turns a datetime into the column's parameter: SQLAlchemy stores an SQLite
    DATETIME as naive `YYYY-MM-DD HH:MM:SS.ffffff` text, asyncpg takes the datetime.
    """

    def __init__(self, sqlite: bool) -> None:
        self._moment = _sqlite_moment if sqlite else _same

    def of(
        self, records: Sequence[Any]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        now = datetime.now(UTC)
        stored_now, now_z, now_iso = self._moment(now), _utc_z(now), now.isoformat()
        fiches, outbox, inbox = [], [], []
        for record in records:
            headers = dict(record.headers)
            if headers["ce_type"] != REGISTERED:
                raise ValueError(f"not a registration: {headers['ce_type']!r}")
            event_id = headers["ce_id"].decode()
            # The consumer's correlation scope: the record's correlation id, or its id.
            cause = headers["ce_correlationid"].decode() if "ce_correlationid" in headers else ""
            facts = orjson.loads(record.value)
            fiche_id = str(uuid.uuid4())
            public = [
                {key: p.get(key) for key in _PUBLIC_KEYS}
                for p in facts["professions"]
                if p["visa_status"] == "active" and p.get("riziv_status") in (None, "active")
            ]
            first, last, may = facts["first_name"], facts["last_name"], facts["may_practise"]
            fiches.append(
                (
                    fiche_id,
                    facts["professional_id"],
                    last,
                    first,
                    f"{first} {last}".lower(),
                    facts.get("language"),
                    orjson.dumps(facts["professions"]).decode(),
                    " ".join(p["profession"] for p in public),
                    facts["practice_ban"],
                    facts["deceased"],
                    may,
                    self._moment(datetime.fromisoformat(facts["source_version"])),
                    may,
                    1 if may else 0,
                    None,
                    stored_now,
                    "null",  # own_draft: JSON null, as SQLAlchemy stores None (and fiches)
                    "null",  # own_published
                    0,
                )
            )
            if may:
                outbox.append(
                    _published_row(
                        fiche_id, facts, public, now_z, now_iso, stored_now, cause or event_id
                    )
                )
            inbox.append(
                (CONSUMER, event_id, record.topic, record.partition, record.offset, stored_now)
            )
        return fiches, outbox, inbox


def _published_row(
    fiche_id: str,
    facts: dict[str, Any],
    public: list[dict[str, Any]],
    now_z: str,
    now_iso: str,
    created_at: Any,
    correlation_id: str,
) -> tuple[Any, ...]:
    """The outbox row of the fiche's `ProviderFichePublished` (fields in the model's order)."""
    event_id = str(uuid.uuid4())
    payload = orjson.dumps(
        {
            "fiche_id": fiche_id,
            "professional_id": facts["professional_id"],
            "official_last_name": facts["last_name"],
            "official_first_name": facts["first_name"],
            "professions": public,
            "revision": 1,
            "occurred_at": now_z,
            "preferred_name": None,
            "languages": [],
            "description": None,
        }
    )
    envelope = orjson.dumps(
        [
            ("ce_specversion", "1.0"),
            ("ce_id", event_id),
            ("ce_source", SOURCE),
            ("ce_type", PUBLISHED),
            ("ce_subject", fiche_id),
            ("ce_time", now_iso),
            ("content-type", "application/json"),
            ("ce_correlationid", correlation_id),
        ]
    ).decode()
    return (event_id, PROVIDERS_TOPIC, fiche_id, envelope, payload, created_at)


def _sqlite_moment(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def _same(moment: datetime) -> datetime:
    return moment


class SqliteFloor:
    """The floor on an SQLite file, with fiches' connection pragmas."""

    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "busy_timeout=30000",
            "foreign_keys=ON",
            "secure_delete=ON",
        ):
            self._connection.execute(f"PRAGMA {pragma}")
        self._rows = FloorRows(sqlite=True)
        self._sql = _statements(lambda _: "?")

    async def write_batch(self, records: Sequence[Any]) -> None:
        rows = self._rows.of(records)
        connection = self._connection
        connection.execute("BEGIN")
        for sql, parameters in zip(self._sql, rows, strict=True):
            if parameters:
                connection.executemany(sql, parameters)
        connection.execute("COMMIT")

    async def close(self) -> None:
        self._connection.close()


class PostgresFloor:
    """The floor on PostgreSQL, with asyncpg."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._rows = FloorRows(sqlite=False)
        self._sql = _statements(lambda n: f"${n}")

    @classmethod
    async def connect(cls, dsn: str) -> PostgresFloor:
        import asyncpg

        return cls(await asyncpg.connect(dsn))

    async def write_batch(self, records: Sequence[Any]) -> None:
        rows = self._rows.of(records)
        async with self._connection.transaction():
            for sql, parameters in zip(self._sql, rows, strict=True):
                if parameters:
                    await self._connection.executemany(sql, parameters)

    async def close(self) -> None:
        await self._connection.close()


async def open_floor(database_url: str) -> SqliteFloor | PostgresFloor:
    """The floor writer for a migrated fiches database given by its SQLAlchemy URL."""
    if database_url.startswith("sqlite"):
        return SqliteFloor(database_url.split(":///", 1)[1])
    return await PostgresFloor.connect(database_url.replace("+asyncpg", "", 1))


class BenchDatabases:
    """The run's fiches databases: SQLite files in the work folder, or PostgreSQL
    databases named for the run (`skaart_bench_pipeline_<run>_<name>`), dropped by
    `drop_all`."""

    def __init__(self, kind: str, work: Path, admin_url: str) -> None:
        self.kind = kind
        self._work = work
        self._admin_url = admin_url
        self._run = uuid.uuid4().hex[:8]
        self._created: list[str] = []

    async def url(self, name: str) -> str:
        """A fresh, empty database's SQLAlchemy URL."""
        if self.kind == "sqlite":
            return f"sqlite+aiosqlite:///{(self._work / f'{name}.db').resolve()}"
        import asyncpg

        database = f"skaart_bench_pipeline_{self._run}_{name}"
        admin = await asyncpg.connect(self._admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{database}"')
        finally:
            await admin.close()
        self._created.append(database)
        base = self._admin_url.rsplit("/", 1)[0]
        return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"

    async def drop_all(self) -> None:
        """Drop every PostgreSQL database this run created."""
        if not self._created:
            return
        import asyncpg

        admin = await asyncpg.connect(self._admin_url)
        try:
            for database in self._created:
                await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
        self._created.clear()
