"""What a pod of the previous release would run into in the schema a migration leaves.

A rollout runs the migration Job first, then replaces the previous release's pods one at a
time (deploy/README.md): for minutes, code written for the schema before a migration reads
and writes the schema after it. This module compares the two schemas, as PostgreSQL
reports them, and names each change such code can fail on:

- a table or a column it uses is gone, or a column's type is no longer the one it writes
  (a wider text or integer type is not a change it notices);
- a row it inserts is refused: a new required column without a default, a column made
  required, a required column that lost its default, a new unique set of columns (unless
  a set it already kept unique lies within it), a new foreign key or check;
- a statement it sends names a unique set of columns that is gone (`ON CONFLICT (...)`
  needs a unique index on exactly those columns).

Dropping a plain index or a foreign key, and adding a table, a nullable column or an
index, are not on the list: the previous release's statements still run (a dropped index
can make them slower). What this cannot see is a change of meaning: the previous
release writing rows the new release reads differently: that takes two releases
(docs/operations.md, "Migrations and rollouts").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

_IGNORED_TABLES = frozenset({"alembic_version"})


@dataclass(frozen=True)
class ColumnShape:
    type: str
    """As PostgreSQL spells it (`VARCHAR(200)`, `TIMESTAMP WITH TIME ZONE`)."""
    nullable: bool
    has_default: bool
    """A server default (a sequence counts): an INSERT may leave the column out."""


@dataclass(frozen=True)
class TableShape:
    columns: dict[str, ColumnShape]
    unique: frozenset[tuple[str, ...]] = field(default_factory=frozenset)
    """Every set of columns the table keeps unique (primary key, constraints, indexes),
    each in its declared order."""
    foreign_keys: frozenset[str] = field(default_factory=frozenset)
    checks: frozenset[str] = field(default_factory=frozenset)


def schema_shape(connection: sa.Connection) -> dict[str, TableShape]:
    """The tables of the connection's database, as this comparison needs them."""
    inspector = sa.inspect(connection)
    return {
        name: _table_shape(inspector, name)
        for name in inspector.get_table_names()
        if name not in _IGNORED_TABLES
    }


def _table_shape(inspector: Any, name: str) -> TableShape:
    dialect = postgresql.dialect()
    columns = {
        column["name"]: ColumnShape(
            type=column["type"].compile(dialect=dialect),
            nullable=bool(column["nullable"]),
            has_default=column.get("default") is not None or bool(column.get("identity")),
        )
        for column in inspector.get_columns(name)
    }
    unique = {tuple(inspector.get_pk_constraint(name)["constrained_columns"])}
    unique |= {tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)}
    unique |= {tuple(i["column_names"]) for i in inspector.get_indexes(name) if i["unique"]}
    foreign_keys = {
        f"({', '.join(fk['constrained_columns'])}) references "
        f"{fk['referred_table']} ({', '.join(fk['referred_columns'])})"
        for fk in inspector.get_foreign_keys(name)
    }
    checks = {str(check["sqltext"]) for check in inspector.get_check_constraints(name)}
    return TableShape(columns, frozenset(unique - {()}), frozenset(foreign_keys), frozenset(checks))


def changes_the_previous_release_notices(
    before: dict[str, TableShape], after: dict[str, TableShape]
) -> list[str]:
    """Each change from `before` to `after` that code written for `before` can fail on,
    as one line (`table.column: what changed`), in a stable order."""
    found: list[str] = []
    for table in sorted(before):
        if table not in after:
            found.append(f"{table}: table dropped")
            continue
        found.extend(_column_changes(table, before[table], after[table]))
        found.extend(_constraint_changes(table, before[table], after[table]))
    return found


def _column_changes(table: str, before: TableShape, after: TableShape) -> list[str]:
    found: list[str] = []
    for name, new in sorted(after.columns.items()):
        old = before.columns.get(name)
        if old is None:
            if not new.nullable and not new.has_default:
                found.append(f"{table}.{name}: column added, required and without a default")
            continue
        if old.type != new.type and not _widens(old.type, new.type):
            found.append(f"{table}.{name}: type {old.type} became {new.type}")
        if old.nullable and not new.nullable and not new.has_default:
            found.append(f"{table}.{name}: made required, without a default")
        if not new.nullable and old.has_default and not new.has_default:
            found.append(f"{table}.{name}: required, and its default dropped")
    found.extend(
        f"{table}.{name}: column dropped"
        for name in sorted(set(before.columns) - set(after.columns))
    )
    return found


def _constraint_changes(table: str, before: TableShape, after: TableShape) -> list[str]:
    found: list[str] = []
    kept_sets = [frozenset(columns) for columns in before.unique]
    for columns in sorted(after.unique - before.unique):
        # Unique on a superset of what was already unique refuses no row the old code writes.
        if not any(kept <= frozenset(columns) for kept in kept_sets):
            found.append(f"{table}: unique ({', '.join(columns)}) added")
    after_sets = {frozenset(columns) for columns in after.unique}
    for columns in sorted(before.unique - after.unique):
        if frozenset(columns) not in after_sets:
            found.append(f"{table}: unique ({', '.join(columns)}) dropped")
    found.extend(
        f"{table}: foreign key {fk} added"
        for fk in sorted(after.foreign_keys - before.foreign_keys)
    )
    found.extend(f"{table}: check {check} added" for check in sorted(after.checks - before.checks))
    return found


_SIZED = re.compile(r"^(VARCHAR|CHAR)\((\d+)\)$")
_INTEGER_WIDTHS = {"SMALLINT": 2, "INTEGER": 4, "BIGINT": 8}


def _widens(old: str, new: str) -> bool:
    """Whether every value of type `old` is also a value of type `new`, written the same."""
    if old in _INTEGER_WIDTHS and new in _INTEGER_WIDTHS:
        return _INTEGER_WIDTHS[new] >= _INTEGER_WIDTHS[old]
    old_sized, new_sized = _SIZED.match(old), _SIZED.match(new)
    if old_sized is None or old_sized.group(1) != "VARCHAR":
        return False  # CHAR pads to its length: read back unlike it was written
    if new in ("TEXT", "VARCHAR"):
        return True
    return (
        new_sized is not None
        and new_sized.group(1) == "VARCHAR"
        and int(new_sized.group(2)) >= int(old_sized.group(2))
    )
