"""`column IN (ids)` as each database runs it best.

Consumers read and delete by lists of up to thousands of ids (an inbox batch's event ids,
a projection's fiches). Written as `IN (...)`, each list is rendered as that many bind
parameters: SQLAlchemy renders them per execution and PostgreSQL prepares a new statement
for every list length (a quarter of a catching-up directory batch's time went there). On
PostgreSQL the list is one array parameter (`= ANY(:ids)`), so the statement text, and
asyncpg's prepared statement, stay the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def one_of(
    on: AsyncSession | AsyncConnection, column: sa.ColumnElement[Any], values: Iterable[str]
) -> sa.ColumnElement[bool]:
    """`column` is one of `values` (text ids), for the database `on` runs against."""
    listed = list(values)
    dialect = on.get_bind().dialect if isinstance(on, AsyncSession) else on.dialect
    if dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, listed, type_=ARRAY(sa.String())))
    return column.in_(listed)
