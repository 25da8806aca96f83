"""Generate the language-neutral contract files from the Python declarations.

Agencies that do not run Python read these instead of `contracts/`:

* `contracts/schemas/<topic>/<EventName>.json`: the JSON Schema of one event, which is
  exactly the Kafka value (binary content mode keeps the value free of any wrapper);
* `contracts/asyncapi.json`: an AsyncAPI 3.0.0 document of every topic, who sends and who
  receives on it, its messages, key and CloudEvents headers.

Everything is derived from `contracts.topics.TOPICS` and the registered event classes, so a
new topic or event module shows up here without touching this file. The files are
committed; `tests/contracts/test_generated_files_are_current.py` fails when they lag
behind the code. Regenerate with::

    python -m contracts.generate          # write, and print what changed
    python -m contracts.generate --check  # only report; exit status 1 when out of date
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from pydantic.json_schema import models_json_schema

from contracts.base import Event, all_event_classes
from contracts.envelope import CONTENT_TYPE, SPEC_VERSION, Envelope
from contracts.topics import TOPICS, TopicSpec, topic_for_event

#: The directory holding `schemas/` and `asyncapi.json` in the source tree.
CONTRACTS_DIR = Path(__file__).resolve().parent
SCHEMAS_DIRNAME = "schemas"
ASYNCAPI_FILENAME = "asyncapi.json"

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
#: Name of the shared CloudEvents header schema in `components/schemas`.
HEADERS_SCHEMA_NAME = "CloudEventsHeaders"

_INFO_DESCRIPTION = """\
Every topic of the Sociale Kaart fiches platform and every event published on it.

**Envelope: CloudEvents 1.0, Kafka binary content mode.** The CloudEvents attributes travel \
as Kafka headers; the Kafka value is the event's JSON, exactly as described by the message \
payload schema (there is no wrapper around it). Headers, all UTF-8 strings:

* `ce_id`: unique per event; consumers deduplicate on it (delivery is at least once).
* `ce_source`: URI reference of the producing service, e.g. `/skaart/fiches`.
* `ce_type`: the event type, e.g. `be.socialekaart.fiches.ProviderFicheDepublished`; it \
tells which payload schema applies.
* `ce_subject`: the aggregate the event is about; always equal to the Kafka key.
* `ce_time`: when the event happened (RFC 3339).
* `ce_specversion`: always `1.0`.
* `ce_correlationid` (optional): the request or run that caused the event.
* `content-type`: always `application/json`.

**Key and ordering.** The Kafka key is the aggregate id (see `x-key` on each channel), so all \
events about one aggregate land on one partition and are read in the order they happened.

**Compatibility.** Within a `.v1` topic only additive changes are made: new optional fields, \
new enum values and new event types may appear. Consumers must ignore unknown fields, accept \
enum values they do not know and skip event types they do not handle. Any other change is \
published on a new `.v2` topic, side by side with `.v1` for at least six months.

Channel extensions: `x-visibility` (public: any agency, no personal identifiers; internal: \
platform services only; restricted: personal data, only the named consumers), `x-key`, \
`x-producer`, `x-consumers` (platform services reading the topic; agencies may also read \
public topics) and `x-partitions`.
"""


# --------------------------------------------------------------------------------------
# What to generate
# --------------------------------------------------------------------------------------


def _declared_events() -> list[tuple[TopicSpec, type[Event]]]:
    """Every (topic, event class) pair, in TOPICS order; fails on an event on no topic.

    An event class that is registered but missing from its topic's `events` would be
    published without a schema, so it is an error here rather than a silent omission.
    """
    pairs = [(spec, event) for spec in TOPICS.values() for event in spec.events]
    for event in sorted(all_event_classes().values(), key=lambda cls: cls.__name__):
        topic_for_event(event)  # raises LookupError naming the class
    for spec, event in pairs:
        if event.topic != spec.name:
            raise LookupError(
                f"{event.__name__} says it is published on {event.topic!r} but is listed "
                f"on {spec.name!r} in contracts/topics.py"
            )
    names: dict[str, type[Event]] = {}
    for _, event in pairs:
        other = names.setdefault(event.__name__, event)
        if other is not event:
            # The name is the schema file name and the AsyncAPI message id.
            raise ValueError(
                f"two event classes are named {event.__name__} ({other.__module__} and "
                f"{event.__module__}); event class names must be unique"
            )
    return pairs


def _schema_path(spec: TopicSpec, event: type[Event]) -> str:
    """Path of an event's schema file, relative to `contracts/schemas/`."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec.name) or ".." in spec.name:
        raise ValueError(f"topic name {spec.name!r} is not usable as a directory name")
    return f"{spec.name}/{event.__name__}.json"


def _event_extensions(spec: TopicSpec, event: type[Event]) -> dict[str, str]:
    return {"x-event-type": event.event_type, "x-topic": spec.name}


def event_schema(event: type[Event]) -> dict[str, Any]:
    """The JSON Schema of one event's Kafka value, self-contained (with its `$defs`)."""
    spec = topic_for_event(event)
    schema = event.model_json_schema(mode="serialization")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["title"] = event.__name__
    schema.update(_event_extensions(spec, event))
    return schema


def event_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every event, by file path relative to `contracts/schemas/`.

    The path is `<topic>/<EventName>.json`; each schema carries `x-event-type` (the
    CloudEvents `type`, which identifies it) and `x-topic`.
    """
    return {_schema_path(spec, event): event_schema(event) for spec, event in _declared_events()}


def cloudevents_headers_schema() -> dict[str, Any]:
    """JSON Schema of the Kafka headers every message carries, derived from `Envelope`."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, field in Envelope.model_fields.items():
        header: dict[str, Any] = {"type": "string", "description": field.description or name}
        if name == "time":
            header["format"] = "date-time"
        if name == "specversion":
            header["const"] = SPEC_VERSION
        properties[f"ce_{name}"] = header
        # Only attributes defaulting to None are optional; the others are always sent.
        if field.default is not None or field.default_factory is not None:
            required.append(f"ce_{name}")
    properties["content-type"] = {
        "type": "string",
        "const": CONTENT_TYPE,
        "description": "Media type of the Kafka value.",
    }
    required.append("content-type")
    return {
        "title": HEADERS_SCHEMA_NAME,
        "description": (
            "CloudEvents 1.0 attributes in Kafka headers (binary content mode); header values "
            "are UTF-8 strings. Other headers (e.g. tracing) may be present and are ignored."
        ),
        "type": "object",
        "properties": properties,
        "required": sorted(required),
        "additionalProperties": True,
    }


def _channel_id(topic: str) -> str:
    # AsyncAPI ids allow only [A-Za-z0-9_-]; topic names contain dots.
    return re.sub(r"[^A-Za-z0-9_-]", "_", topic)


def _operation_id(*parts: str) -> str:
    return "__".join(_channel_id(part) for part in parts)


def _docstring(event: type[Event]) -> tuple[str, str]:
    """(summary, description) from the event class's docstring."""
    doc = inspect.cleandoc(event.__doc__ or event.__name__)
    return doc.split("\n\n", 1)[0].replace("\n", " "), doc


def _message(spec: TopicSpec, event: type[Event], payload_ref: str) -> dict[str, Any]:
    summary, description = _docstring(event)
    return {
        "name": event.__name__,
        "title": event.__name__,
        "summary": summary,
        "description": description,
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "allOf": [
                {"$ref": f"#/components/schemas/{HEADERS_SCHEMA_NAME}"},
                {
                    "type": "object",
                    "properties": {"ce_type": {"type": "string", "const": event.event_type}},
                    "required": ["ce_type"],
                },
            ],
        },
        "payload": {"$ref": payload_ref},
        "correlationId": {
            "description": "The request or run that caused this event.",
            "location": "$message.header#/ce_correlationid",
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": f"The aggregate id ({spec.key}); equal to ce_subject.",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        **_event_extensions(spec, event),
    }


def _channel(spec: TopicSpec, events: Sequence[type[Event]]) -> dict[str, Any]:
    return {
        "address": spec.name,
        "description": spec.description,
        "messages": {
            event.__name__: {"$ref": f"#/components/messages/{event.__name__}"} for event in events
        },
        "bindings": {
            "kafka": {
                "topic": spec.name,
                "partitions": spec.partitions,
                "topicConfiguration": {
                    "cleanup.policy": [p.strip() for p in spec.cleanup_policy.split(",")],
                    "retention.ms": spec.retention_ms,
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-visibility": str(spec.visibility),
        "x-key": spec.key,
        "x-producer": spec.producer,
        "x-consumers": list(spec.consumers),
        "x-partitions": spec.partitions,
        "x-external-readers": spec.external_readers,
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of every topic in TOPICS and every event on it."""
    pairs = _declared_events()
    events = [event for _, event in pairs]
    # One generator run over all events shares nested definitions (e.g. `Diploma`) and
    # lets pydantic disambiguate two different nested models that happen to share a name.
    refs, definitions = models_json_schema(
        [(event, "serialization") for event in events],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    if HEADERS_SCHEMA_NAME in schemas:
        raise ValueError(f"a model named {HEADERS_SCHEMA_NAME} clashes with the header schema")
    schemas[HEADERS_SCHEMA_NAME] = cloudevents_headers_schema()

    messages: dict[str, Any] = {}
    for spec, event in pairs:
        payload_ref = refs[(event, "serialization")]["$ref"]
        schemas[payload_ref.rsplit("/", 1)[1]].update(_event_extensions(spec, event))
        messages[event.__name__] = _message(spec, event, payload_ref)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for spec in TOPICS.values():
        channel_id = _channel_id(spec.name)
        if channel_id in channels:
            raise ValueError(f"topic {spec.name!r} maps to an AsyncAPI id already in use")
        channels[channel_id] = _channel(spec, spec.events)
        channel_ref = {"$ref": f"#/channels/{channel_id}"}
        message_refs = [
            {"$ref": f"#/channels/{channel_id}/messages/{event.__name__}"} for event in spec.events
        ]
        operations[_operation_id(spec.name, "send")] = {
            "action": "send",
            "channel": channel_ref,
            "messages": message_refs,
            "summary": f"{spec.producer} publishes on {spec.name}.",
            "x-service": spec.producer,
        }
        for consumer in spec.consumers:
            operations[_operation_id(spec.name, "receive", consumer)] = {
                "action": "receive",
                "channel": channel_ref,
                "messages": message_refs,
                "summary": f"{consumer} consumes {spec.name}.",
                "x-service": consumer,
            }

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Sociale Kaart fiches platform events",
            "version": "1.0.0",
            "description": _INFO_DESCRIPTION,
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def _retention(retention_ms: int) -> str:
    if retention_ms < 0:
        return "forever"
    for unit, ms in (("week", 7 * 24 * 3600 * 1000), ("day", 24 * 3600 * 1000)):
        if retention_ms % ms == 0:
            count = retention_ms // ms
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{retention_ms} ms"


def topic_table_markdown() -> str:
    """The topic table of docs/contracts.md, rendered from TOPICS.

    The doc is written by hand; a test checks it contains exactly this table, so the doc
    cannot drift from `contracts/topics.py`.
    """
    rows = [
        "| Topic | Visibility | Key | Producer | Consumers | Events | Partitions | Retention |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for spec in TOPICS.values():
        visibility = str(spec.visibility) + (", agencies" if spec.external_readers else "")
        consumers = ", ".join(spec.consumers) or "-"
        events = ", ".join(event.__name__ for event in spec.events) or "-"
        retention = _retention(spec.retention_ms) + f" ({spec.cleanup_policy})"
        rows.append(
            f"| `{spec.name}` | {visibility} | {spec.key} | {spec.producer} | {consumers} "
            f"| {events} | {spec.partitions} | {retention} |"
        )
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def dumps(document: Any) -> str:
    """The one serialisation of every generated file, so regeneration is byte-stable."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def rendered_files() -> dict[str, bytes]:
    """Every generated file's bytes, by POSIX path relative to the contracts directory."""
    files = {
        f"{SCHEMAS_DIRNAME}/{path}": dumps(schema).encode("utf-8")
        for path, schema in event_schemas().items()
    }
    files[ASYNCAPI_FILENAME] = dumps(asyncapi_document()).encode("utf-8")
    return files


def _sync(target_dir: Path, *, dry_run: bool = False) -> list[tuple[str, Path]]:
    """Bring `target_dir` in line with the code; returns (created|updated|removed, path)."""
    changes: list[tuple[str, Path]] = []
    files = rendered_files()
    for relative, content in sorted(files.items()):
        path = target_dir / relative
        if path.is_file() and path.read_bytes() == content:
            continue
        changes.append(("updated" if path.exists() else "created", path))
        if not dry_run:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)  # bytes: no platform newline translation

    schemas_dir = target_dir / SCHEMAS_DIRNAME
    if schemas_dir.is_dir():
        for path in sorted(schemas_dir.rglob("*.json")):
            if path.relative_to(target_dir).as_posix() not in files:
                changes.append(("removed", path))
                if not dry_run:
                    path.unlink()
        if not dry_run:
            # Deepest first, so a topic directory emptied above goes too.
            for directory in sorted(schemas_dir.rglob("*"), reverse=True):
                if directory.is_dir() and not any(directory.iterdir()):
                    directory.rmdir()
    return changes


def write_all(target_dir: Path) -> list[Path]:
    """Write `schemas/<topic>/<EventName>.json` and `asyncapi.json` under `target_dir`.

    `target_dir` is the contracts directory (`CONTRACTS_DIR` in the source tree). Schema
    files of events that no longer exist are deleted. Returns the paths that changed
    (created, rewritten or removed); files already up to date are left untouched.
    """
    return [path for _, path in _sync(target_dir)]


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


DOCS_CONTRACTS = CONTRACTS_DIR.parent / "docs" / "contracts.md"


def _sync_docs_topic_table(*, dry_run: bool) -> bool:
    """Replace the topic table in docs/contracts.md (the block starting `| Topic |`)."""
    if not DOCS_CONTRACTS.exists():
        return False
    current = DOCS_CONTRACTS.read_text(encoding="utf-8")
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("| Topic |")), None)
    if start is None:
        return False
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    text = "".join(lines[:start]) + topic_table_markdown() + "".join(lines[end:])
    if text == current:
        return False
    if not dry_run:
        DOCS_CONTRACTS.write_text(text, encoding="utf-8")
    return True


def regenerate(target: Path = CONTRACTS_DIR, *, check: bool = False) -> int:
    """Regenerate the contract files (or, with `check`, report drift): the exit status."""
    changes = _sync(target, dry_run=check)
    if target == CONTRACTS_DIR and _sync_docs_topic_table(dry_run=check):
        changes.append(("updated", DOCS_CONTRACTS))
    for kind, path in changes:
        print(f"{'would be ' + kind if check else kind}: {_display(path)}")
    if not changes:
        print("contract files are up to date")
    return 1 if check and changes else 0


def command(
    target: Path = typer.Option(
        CONTRACTS_DIR, help="contracts directory to write into (default: the source tree's)"
    ),
    check: bool = typer.Option(
        False, "--check", help="write nothing; exit with status 1 when the files are out of date"
    ),
) -> None:
    """Regenerate contracts/schemas/**.json and contracts/asyncapi.json."""
    # The same command is `skaart generate-contracts` (skaart/cli.py registers it).
    raise typer.Exit(regenerate(target, check=check))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line `python -m contracts.generate [--target DIR] [--check]` (exits)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(command)
    app(args=argv, prog_name="python -m contracts.generate")


if __name__ == "__main__":
    main()
