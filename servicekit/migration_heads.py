"""Whether a database is at its newest migrations, told without loading Alembic.

`upgrade_database` runs at the start of every service and of every `skaart` command that
opens a database. Loading Alembic to learn that there is nothing to do took 0.07 s in
`skaart registry import` (its modules, Mako's among them, and the migration scripts),
0.01 s without it. The heads are read here from the migration files
themselves (their `revision` and `down_revision` lines); when the database's
`alembic_version` rows are exactly those heads, Alembic is not loaded at all.

Anything this reader does not understand (a file without exactly one of each line, a
value that is not a literal) makes it answer None, and Alembic decides as before; a test
holds its answer equal to Alembic's for every service.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from importlib import resources

from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncEngine

_REVISION = re.compile(r"^revision(?:\s*:[^=\n]+)?\s*=\s*(.+?)\s*$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=\n]+)?\s*=\s*(.+?)\s*$", re.MULTILINE)
_UNREADABLE = object()


def _literal(source: str) -> object:
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return _UNREADABLE


def _revisions(value: object) -> tuple[str, ...] | None:
    """A `down_revision` value as revision ids (None: not one this reader knows)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def migration_heads(packages: Iterable[str]) -> frozenset[str] | None:
    """The head revisions of the migrations in these packages' `versions` folders."""
    revisions: set[str] = set()
    replaced: set[str] = set()
    for package in packages:
        for script in (resources.files(package) / "versions").iterdir():
            if not script.name.endswith(".py") or script.name.startswith("__"):
                continue
            source = script.read_text(encoding="utf-8")
            revision = _REVISION.findall(source)
            down_revision = _DOWN_REVISION.findall(source)
            if len(revision) != 1 or len(down_revision) != 1:
                return None
            this, before = _literal(revision[0]), _revisions(_literal(down_revision[0]))
            if not isinstance(this, str) or before is None:
                return None
            revisions.add(this)
            replaced.update(before)
    return frozenset(revisions - replaced) if revisions else None


async def stored_heads(engine: AsyncEngine) -> frozenset[str] | None:
    """The revisions the database says it is at (None: it has no version table yet)."""
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return frozenset(row[0] for row in rows)
    except exc.DBAPIError:
        return None
