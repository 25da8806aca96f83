"""Looking for a secret where it must not be: database tables, log lines, topics."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from servicekit.logging import JsonFormatter


async def table_dump(sessions: Any) -> dict[str, str]:
    """Every row of every table in the database, as text per table."""
    async with sessions() as session:
        connection = await session.connection()
        names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        dump: dict[str, str] = {}
        for name in names:
            rows = (await connection.execute(sa.text(f'SELECT * FROM "{name}"'))).all()
            dump[name] = "\n".join(repr(tuple(_text(v) for v in row)) for row in rows)
    return dump


def _text(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return value


def formatted(records: Iterable[logging.LogRecord]) -> list[str]:
    """Log records as the platform writes them (JSON, with extras and exceptions)."""
    formatter = JsonFormatter()
    return [formatter.format(record) for record in records]


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """The secrets found in `text` (case-insensitive)."""
    lowered = text.lower()
    return [secret for secret in secrets if secret.lower() in lowered]
