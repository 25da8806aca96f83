"""Each service's migrations build exactly the tables its code declares, on both backends.

The code reads and writes through its SQLAlchemy tables; the database it runs on was built
by the migrations alone. Alembic's comparison finds a missing or extra table, column or
index; it does not compare primary keys, which decide what a page reads in order (the
directory's search_terms), so they are compared here too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from servicekit.database import create_engine, upgrade_database
from servicekit.settings import KafkaSettings, PlatformSettings
from skaart.components import BUILDERS


def _differences(connection: sa.Connection, metadata: sa.MetaData) -> list[str]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    found = [repr(difference) for difference in compare_metadata(context, metadata)]
    inspector = sa.inspect(connection)
    for table in metadata.sorted_tables:
        built = inspector.get_pk_constraint(table.name)["constrained_columns"]
        declared = [column.name for column in table.primary_key.columns]
        if built != declared:
            found.append(f"{table.name}: primary key {built} built, {declared} declared")
    return found


@pytest.mark.parametrize("service", sorted(BUILDERS))
async def test_the_migrations_build_the_tables_the_code_declares(
    service: str, database_url_factory: Callable[[str], Any], tmp_path: Path
) -> None:
    # The service as `skaart migrate` builds it: its migrations and its tables' MetaData.
    runtime = BUILDERS[service](PlatformSettings(data_dir=tmp_path), KafkaSettings()).runtime
    await runtime.engine.dispose()  # never connected: the test's own database is used
    engine = create_engine(await database_url_factory(service))
    try:
        await upgrade_database(engine, runtime.migrations_package)
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences, runtime.tables.metadata)
    finally:
        await engine.dispose()
    assert differences == [], (
        f"{service}: the migrated database differs from the tables the code declares: "
        "add a migration that makes them agree"
    )
