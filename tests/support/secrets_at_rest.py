"""Search the raw bytes of data files and topic records for secrets in clear.

What a copy of the disks or a dump of the broker gives an attacker: every SQLite file
(the database, its `-wal` and `-shm`, so rows deleted or overwritten since the last
checkpoint count too) and every record of every topic (value, key and headers).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from contracts.topics import TOPICS
from servicekit.settings import KafkaSettings
from tests.support.kafka_reading import read_topic

SQLITE_SUFFIXES = (".db", ".db-wal", ".db-shm")


def sqlite_files(folder: Path) -> list[Path]:
    """Every SQLite database file under `folder`, with its WAL and shared-memory files."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(SQLITE_SUFFIXES))


def _forms(secret: str) -> set[bytes]:
    # As text, and as it would appear URL-encoded or JSON-escaped in a payload.
    return {secret.encode(), secret.replace("@", "%40").encode(), secret.lower().encode()}


def found_in_files(files: Iterable[Path], secrets: Iterable[str]) -> list[str]:
    """`file: secret` for every secret whose bytes occur in a file."""
    hits = []
    wanted = list(secrets)
    for path in files:
        data = path.read_bytes()
        hits += [f"{path.name}: {s}" for s in wanted if any(f in data for f in _forms(s))]
    return hits


async def topic_bytes(kafka: KafkaSettings) -> dict[str, bytes]:
    """Topic name → the raw bytes of all its records (keys, values and headers)."""
    dumped: dict[str, bytes] = {}
    for name in TOPICS:
        parts: list[bytes] = []
        for record in await read_topic(kafka, name, settle_s=0.1):
            parts += [record.key or b"", record.value or b""]
            parts += [value or b"" for _, value in record.headers or ()]
        dumped[name] = b"\n".join(parts)
    return dumped


def found_in_topics(dumped: dict[str, Any], secrets: Iterable[str]) -> list[str]:
    """`topic: secret` for every secret whose bytes occur in a topic's records."""
    wanted = list(secrets)
    return [
        f"{topic}: {s}"
        for topic, data in dumped.items()
        for s in wanted
        if any(f in data for f in _forms(s))
    ]
