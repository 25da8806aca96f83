"""Released event schemas only ever change in ways their readers were promised.

How a deliberate change works
-----------------------------
`contracts/schemas-baseline/` is a frozen copy of the released v1 schemas. It is never
edited to make this test pass. Within a `.v1` topic only additive changes are allowed: a
new optional property, a new enum value, or a new event type (consumers ignore unknown
fields, accept unknown enum values and skip unknown event types). For anything else (a
field renamed, removed, retyped, made required...) declare a new versioned topic, e.g.
`fiches.providers.v2`, with new event classes, publish it side by side with the v1 topic
for at least six months, then retire v1. The baseline is re-frozen only when such a new
major topic version is released: its schemas are copied in, next to the v1 files, which
stay until the v1 topic itself is removed from the platform. (Copying in the schema of a
newly released event on an existing topic only adds protection and is fine at any time;
editing or deleting an existing baseline file is never the fix for a failure here.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts.compatibility import breaking_changes
from contracts.generate import CONTRACTS_DIR, SCHEMAS_DIRNAME

BASELINE_DIR = CONTRACTS_DIR / "schemas-baseline"
CURRENT_DIR = CONTRACTS_DIR / SCHEMAS_DIRNAME


# --------------------------------------------------------------------------------------
# Unit tests of breaking_changes on small hand-written schemas
# --------------------------------------------------------------------------------------


def _event(
    properties: dict[str, Any],
    required: list[str] | None = None,
    defs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "title": "Example",
        "type": "object",
        "properties": properties,
        "required": required if required is not None else sorted(properties),
    }
    if defs:
        schema["$defs"] = defs
    return schema


STRING = {"type": "string"}
NULLABLE_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
STATUS_DEFS = {"Status": {"title": "Status", "type": "string", "enum": ["active", "inactive"]}}


def _one(problems: list[str], *fragments: str) -> None:
    assert len(problems) == 1, problems
    for fragment in fragments:
        assert fragment in problems[0], problems


def test_identical_schemas_are_compatible() -> None:
    schema = _event({"id": STRING, "status": {"$ref": "#/$defs/Status"}}, defs=STATUS_DEFS)
    assert breaking_changes(schema, schema) == []


def test_removed_property_is_breaking() -> None:
    old = _event({"id": STRING, "name": STRING})
    new = _event({"id": STRING})
    _one(breaking_changes(old, new), "`name`", "removed")


def test_removed_optional_property_is_breaking() -> None:
    old = _event({"id": STRING, "nickname": NULLABLE_STRING}, required=["id"])
    new = _event({"id": STRING})
    _one(breaking_changes(old, new), "`nickname`", "removed")


def test_changed_type_is_breaking() -> None:
    old = _event({"revision": {"type": "integer"}})
    new = _event({"revision": {"type": "string"}})
    _one(breaking_changes(old, new), "`revision`", "integer", "string")


def test_widened_type_is_breaking() -> None:
    old = _event({"revision": {"type": "integer"}})
    new = _event({"revision": {"type": "number"}})
    _one(breaking_changes(old, new), "`revision`", "changed type")


def test_changed_format_is_breaking() -> None:
    old = _event({"at": {"type": "string", "format": "date-time"}})
    new = _event({"at": {"type": "string", "format": "date"}})
    _one(breaking_changes(old, new), "`at`", "format")


def test_changed_constraint_is_breaking() -> None:
    old = _event({"code": {"type": "string", "maxLength": 3}})
    new = _event({"code": {"type": "string", "maxLength": 5}})
    _one(breaking_changes(old, new), "`code`", "maxLength")


def test_removed_enum_value_is_breaking() -> None:
    old = _event({"status": {"$ref": "#/$defs/Status"}}, defs=STATUS_DEFS)
    defs = {"Status": {"title": "Status", "type": "string", "enum": ["active"]}}
    new = _event({"status": {"$ref": "#/$defs/Status"}}, defs=defs)
    _one(breaking_changes(old, new), "`status`", '"inactive"')


def test_dropping_the_enum_is_breaking() -> None:
    old = _event({"status": {"$ref": "#/$defs/Status"}}, defs=STATUS_DEFS)
    new = _event({"status": STRING})
    _one(breaking_changes(old, new), "`status`", "no longer restricted")


def test_nullable_made_non_nullable_is_breaking() -> None:
    old = _event({"language": NULLABLE_STRING}, required=[])
    new = _event({"language": {"type": "string", "default": "nl"}}, required=[])
    _one(breaking_changes(old, new), "`language`", "no longer nullable")


def test_non_nullable_made_nullable_is_breaking() -> None:
    old = _event({"language": STRING})
    new = _event({"language": NULLABLE_STRING}, required=["language"])
    _one(breaking_changes(old, new), "`language`", "may now be null")


def test_optional_property_made_required_is_breaking() -> None:
    old = _event({"id": STRING, "language": STRING}, required=["id"])
    new = _event({"id": STRING, "language": STRING}, required=["id", "language"])
    _one(breaking_changes(old, new), "`language`", "now required")


def test_required_property_made_optional_is_breaking() -> None:
    old = _event({"id": STRING, "language": STRING}, required=["id", "language"])
    new = _event({"id": STRING, "language": STRING}, required=["id"])
    _one(breaking_changes(old, new), "`language`", "may be missing")


def test_new_required_property_is_breaking() -> None:
    old = _event({"id": STRING})
    new = _event({"id": STRING, "revision": {"type": "integer"}})
    _one(breaking_changes(old, new), "new required property `revision`")


def test_new_optional_property_is_not_breaking() -> None:
    old = _event({"id": STRING})
    new = _event({"id": STRING, "nickname": NULLABLE_STRING}, required=["id"])
    assert breaking_changes(old, new) == []


def test_new_enum_value_is_not_breaking() -> None:
    old = _event({"status": {"$ref": "#/$defs/Status"}}, defs=STATUS_DEFS)
    defs = {"Status": {"title": "Status", "type": "string", "enum": ["active", "inactive", "x"]}}
    new = _event({"status": {"$ref": "#/$defs/Status"}}, defs=defs)
    assert breaking_changes(old, new) == []


def test_single_value_enum_growing_is_not_breaking() -> None:
    old = _event({"kind": {"type": "string", "const": "a"}})
    new = _event({"kind": {"type": "string", "enum": ["a", "b"]}})
    assert breaking_changes(old, new) == []


def test_documentation_changes_are_not_breaking() -> None:
    old = _event({"id": {"type": "string", "description": "Id.", "title": "Id"}})
    new = _event({"id": {"type": "string", "description": "The id.", "title": "Identifier"}})
    new["description"] = "Now documented."
    assert breaking_changes(old, new) == []


def test_inlined_and_referenced_definitions_compare_equal() -> None:
    old = _event({"status": {"$ref": "#/$defs/Status"}}, defs=STATUS_DEFS)
    new = _event({"status": {"type": "string", "enum": ["active", "inactive"]}})
    assert breaking_changes(old, new) == []


def _with_diplomas(diploma: dict[str, Any], required: list[str]) -> dict[str, Any]:
    defs = {
        "Diploma": {"title": "Diploma", "type": "object", "properties": diploma},
        "Profession": {
            "title": "Profession",
            "type": "object",
            "properties": {"diplomas": {"type": "array", "items": {"$ref": "#/$defs/Diploma"}}},
            "required": ["diplomas"],
        },
    }
    defs["Diploma"]["required"] = required
    return _event(
        {"professions": {"type": "array", "items": {"$ref": "#/$defs/Profession"}}}, defs=defs
    )


def test_nested_changes_name_the_full_path() -> None:
    old = _with_diplomas({"title": STRING, "date": NULLABLE_STRING}, ["title"])
    new = _with_diplomas({"date": NULLABLE_STRING, "grade": STRING}, ["grade"])
    assert breaking_changes(old, new) == [
        "property `professions[].diplomas[].title` was removed",
        "new required property `professions[].diplomas[].grade`",
    ]


def test_nested_new_optional_property_is_not_breaking() -> None:
    old = _with_diplomas({"title": STRING}, ["title"])
    new = _with_diplomas({"title": STRING, "date": NULLABLE_STRING}, ["title"])
    assert breaking_changes(old, new) == []


def test_array_item_type_change_is_breaking() -> None:
    old = _event({"codes": {"type": "array", "items": STRING}})
    new = _event({"codes": {"type": "array", "items": {"type": "integer"}}})
    _one(breaking_changes(old, new), "`codes[]`", "changed type")


def test_map_value_type_change_is_breaking() -> None:
    old = _event({"labels": {"type": "object", "additionalProperties": STRING}})
    new = _event({"labels": {"type": "object", "additionalProperties": {"type": "integer"}}})
    _one(breaking_changes(old, new), "`labels.*`", "changed type")


def test_union_variant_removed_is_breaking() -> None:
    defs = {
        "Email": {"title": "Email", "type": "object", "properties": {"to": STRING}},
        "Post": {"title": "Post", "type": "object", "properties": {"street": STRING}},
    }
    old = _event(
        {"channel": {"anyOf": [{"$ref": "#/$defs/Email"}, {"$ref": "#/$defs/Post"}]}}, defs=defs
    )
    new = _event({"channel": {"anyOf": [{"$ref": "#/$defs/Email"}]}}, defs=defs)
    problems = breaking_changes(old, new)
    assert any("`channel`" in p and "Post" in p for p in problems), problems


def test_recursive_definitions_terminate() -> None:
    defs = {
        "Node": {
            "title": "Node",
            "type": "object",
            "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            "required": ["children"],
        }
    }
    schema = _event({"root": {"$ref": "#/$defs/Node"}}, defs=defs)
    assert breaking_changes(schema, schema) == []


def test_remote_refs_are_refused() -> None:
    schema = _event({"id": {"$ref": "https://example.org/id.json"}})
    with pytest.raises(ValueError, match="local"):
        breaking_changes(schema, schema)


# --------------------------------------------------------------------------------------
# The guard: committed schemas against the frozen v1 baseline
# --------------------------------------------------------------------------------------


def _schema_files(root: Path) -> dict[str, Path]:
    return {path.relative_to(root).as_posix(): path for path in sorted(root.rglob("*.json"))}


BASELINE = _schema_files(BASELINE_DIR)


def test_baseline_exists() -> None:
    assert BASELINE, f"no frozen schemas found in {BASELINE_DIR}"


def test_every_baseline_event_still_exists() -> None:
    current = _schema_files(CURRENT_DIR)
    removed = sorted(set(BASELINE) - set(current))
    assert not removed, (
        f"released events are gone from their topic: {removed}. Removing an event from a "
        "topic (or moving it to another) is breaking: keep it, and publish the replacement "
        "on a new versioned topic. If you did not mean to, run `python -m contracts.generate`."
    )


@pytest.mark.parametrize("relative", sorted(BASELINE))
def test_released_schema_has_no_breaking_change(relative: str) -> None:
    current = CURRENT_DIR / relative
    if not current.is_file():
        pytest.skip("reported by test_every_baseline_event_still_exists")
    old = json.loads(BASELINE[relative].read_text(encoding="utf-8"))
    new = json.loads(current.read_text(encoding="utf-8"))
    problems = breaking_changes(old, new)
    assert not problems, (
        f"{relative} changed incompatibly with the released v1 schema:\n  - "
        + "\n  - ".join(problems)
        + "\nOnly new optional fields and new enum values are allowed within v1; publish "
        "anything else on a new versioned topic (see the comment at the top of this file)."
    )


def test_baseline_event_types_are_unchanged() -> None:
    for relative, path in BASELINE.items():
        current = CURRENT_DIR / relative
        if current.is_file():
            old = json.loads(path.read_text(encoding="utf-8"))
            new = json.loads(current.read_text(encoding="utf-8"))
            assert (old["x-event-type"], old["x-topic"]) == (
                new["x-event-type"],
                new["x-topic"],
            ), f"{relative}: the CloudEvents type or topic of a released event changed"
