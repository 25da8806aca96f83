"""The FHIR `near` statement tests the radius on a circle's distinct points, not on every
practice in its box (resource_statements._circle_points).

Pushed into the box's scan, the distance (a dozen trigonometric calls) was computed for
every practice address in the box, hundreds where a municipality's centroid holds many,
before the DISTINCT left a few points. The statement keeps PostgreSQL from pushing it
down; this asserts the plan it gets, generic as the read connections plan it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.dialects import postgresql

from directory.adapters.resource_statements import statement
from directory.adapters.sql_distance import circle_values
from directory.adapters.standard_queries import Circle, ResourceQuery, _conditions
from directory.domain.geo import Point
from tests.directory.support import searchable_directory


def _nodes_reading(plan: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """Every node of `plan` (EXPLAIN's JSON node tree) that reads `table`."""
    found = [plan] if plan.get("Relation Name") == table else []
    for child in plan.get("Plans", []):
        found += _nodes_reading(child, table)
    return found


def _conditions_text(node: dict[str, Any]) -> str:
    return " ".join(str(node.get(key, "")) for key in ("Filter", "Index Cond", "Recheck Cond"))


async def test_the_radius_is_tested_on_the_distinct_points_not_in_the_box_scan(
    postgresql_url: str, tmp_path: Path
) -> None:
    async with searchable_directory(postgresql_url, tmp_path):
        pass  # the directory's schema, migrated

    near = Circle(Point(50.85, 4.35), 5)
    conditions = _conditions(ResourceQuery("fhir", "PractitionerRole", near=near))
    compiled = statement(conditions.shape("nearest")).compile(dialect=postgresql.asyncpg.dialect())
    values = {
        **conditions.values(),
        **circle_values(near.centre, near.radius_km),
        "reach": 20,
        "limit": 20,
        "offset": 0,
    }
    arguments = [values.get(name, compiled.params.get(name)) for name in compiled.positiontup]
    dsn = postgresql_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(
        dsn, server_settings={"plan_cache_mode": "force_generic_plan"}
    )
    try:
        explained = await (await connection.prepare(compiled.string)).explain(*arguments)
    finally:
        await connection.close()

    plan = explained[0]["Plan"]
    reading_places = _nodes_reading(plan, "practice_places")
    assert reading_places, plan  # the points come from the practices' places
    for node in reading_places:
        assert "asin" not in _conditions_text(node), node
    assert "asin" in str(plan)  # the radius is still tested, above the scan
