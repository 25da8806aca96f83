"""identity's tables (its own database). Its domain tables arrive with its issue."""

from __future__ import annotations

import sqlalchemy as sa

from servicekit.messaging.tables import add_messaging_tables
from servicekit.runtime import ServiceTables

metadata = sa.MetaData()
outbox, inbox = add_messaging_tables(metadata)
TABLES = ServiceTables(metadata=metadata, outbox=outbox, inbox=inbox)
