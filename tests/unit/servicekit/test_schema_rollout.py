"""Which column type changes a pod of the previous release notices (servicekit.schema_rollout)."""

from __future__ import annotations

import pytest

from servicekit.schema_rollout import (
    ColumnShape,
    TableShape,
    changes_the_previous_release_notices,
)


def _one_column(type_: str) -> dict[str, TableShape]:
    return {"t": TableShape({"c": ColumnShape(type_, nullable=True, has_default=False)})}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("VARCHAR(10)", "VARCHAR(10)"),
        ("VARCHAR(10)", "VARCHAR(200)"),
        ("VARCHAR(10)", "TEXT"),
        ("VARCHAR(10)", "VARCHAR"),
        ("SMALLINT", "INTEGER"),
        ("INTEGER", "BIGINT"),
    ],
)
def test_a_widened_type_is_not_a_change_the_previous_release_notices(
    before: str, after: str
) -> None:
    assert changes_the_previous_release_notices(_one_column(before), _one_column(after)) == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("VARCHAR(200)", "VARCHAR(10)"),
        ("TEXT", "VARCHAR(10)"),
        ("BIGINT", "INTEGER"),
        ("INTEGER", "VARCHAR(10)"),
        ("CHAR(2)", "CHAR(3)"),  # padded differently: read back unlike it was written
        ("TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP WITH TIME ZONE"),
    ],
)
def test_any_other_type_change_is_named(before: str, after: str) -> None:
    assert changes_the_previous_release_notices(_one_column(before), _one_column(after)) == [
        f"t.c: type {before} became {after}"
    ]
