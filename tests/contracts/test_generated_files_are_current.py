"""The committed contract files are exactly what the code generates.

Agencies read `contracts/schemas/` and `contracts/asyncapi.json`, not the Python, so a
change to an event or topic that is not regenerated would silently lie to them.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from contracts import generate

REGENERATE = "run `python -m contracts.generate` and commit the result"
CONTRACTS_DIR = generate.CONTRACTS_DIR
DOC = CONTRACTS_DIR.parent / "docs" / "contracts.md"


def _json_files(root: Path) -> dict[str, bytes]:
    """Generated-file paths relative to `root` (the contracts directory) with their bytes."""
    files = {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in (root / generate.SCHEMAS_DIRNAME).rglob("*.json")
    }
    asyncapi = root / generate.ASYNCAPI_FILENAME
    if asyncapi.is_file():
        files[generate.ASYNCAPI_FILENAME] = asyncapi.read_bytes()
    return files


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    target = tmp_path_factory.mktemp("contracts")
    written = generate.write_all(target)
    assert written, "write_all into an empty directory must create files"
    return _json_files(target)


def test_regenerating_gives_byte_identical_files(regenerated: dict[str, bytes]) -> None:
    committed = _json_files(CONTRACTS_DIR)
    missing = sorted(set(regenerated) - set(committed))
    differing = sorted(
        name for name in set(regenerated) & set(committed) if regenerated[name] != committed[name]
    )
    assert not missing, f"contract files missing: {missing}; {REGENERATE}"
    assert not differing, f"contract files out of date: {differing}; {REGENERATE}"


def test_no_committed_schema_file_is_stale(regenerated: dict[str, bytes]) -> None:
    stale = sorted(set(_json_files(CONTRACTS_DIR)) - set(regenerated))
    assert not stale, (
        f"schema files of events that no longer exist: {stale}; {REGENERATE} (it removes them)"
    )


def test_write_all_removes_stale_files_and_rewrites_only_changes(tmp_path: Path) -> None:
    generate.write_all(tmp_path)
    stale = tmp_path / generate.SCHEMAS_DIRNAME / "gone.v1" / "Removed.json"
    stale.parent.mkdir()
    stale.write_text("{}\n")
    asyncapi = tmp_path / generate.ASYNCAPI_FILENAME
    asyncapi.write_text("{}\n")

    changed = generate.write_all(tmp_path)

    assert sorted(changed) == sorted([stale, asyncapi])
    assert not stale.parent.exists()
    assert generate.write_all(tmp_path) == []


def test_every_event_class_has_a_schema() -> None:
    from contracts.base import all_event_classes

    schemas = generate.event_schemas()
    by_type = {schema["x-event-type"]: schema for schema in schemas.values()}
    assert set(by_type) == set(all_event_classes())
    for path, schema in schemas.items():
        topic, file_name = path.split("/")
        assert schema["x-topic"] == topic
        assert file_name == f"{schema['title']}.json"


def test_schema_files_are_valid_json_schemas() -> None:
    for path, schema in generate.event_schemas().items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as error:  # pragma: no cover - message only
            pytest.fail(f"{path} is not a valid JSON Schema: {error.message}")


def test_asyncapi_describes_every_topic_and_operation() -> None:
    from contracts.topics import TOPICS

    document = generate.asyncapi_document()
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"]: channel for channel in document["channels"].values()}
    assert set(addresses) == set(TOPICS)
    sends = [op for op in document["operations"].values() if op["action"] == "send"]
    receives = [op for op in document["operations"].values() if op["action"] == "receive"]
    assert len(sends) == len(TOPICS)
    assert len(receives) == sum(len(spec.consumers) for spec in TOPICS.values())
    for name, spec in TOPICS.items():
        channel = addresses[name]
        assert channel["x-visibility"] == str(spec.visibility)
        assert channel["x-producer"] == spec.producer
        assert channel["x-consumers"] == list(spec.consumers)
        assert set(channel["messages"]) == {event.__name__ for event in spec.events}


def test_asyncapi_references_all_resolve() -> None:
    document = generate.asyncapi_document()

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in refs(value)]
        return []

    for ref in sorted(set(refs(document))):
        assert ref.startswith("#/"), ref
        node: object = document
        for part in ref[2:].split("/"):
            assert isinstance(node, dict) and part in node, f"unresolvable $ref {ref}"
            node = node[part]


def test_committed_asyncapi_is_json_sorted_and_newline_terminated() -> None:
    text = (CONTRACTS_DIR / generate.ASYNCAPI_FILENAME).read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n", REGENERATE


def test_docs_topic_table_matches_topics() -> None:
    table = generate.topic_table_markdown()
    assert table in DOC.read_text(encoding="utf-8"), (
        "the topic table in docs/contracts.md no longer matches contracts/topics.py; "
        f"replace it with:\n\n{table}"
    )
