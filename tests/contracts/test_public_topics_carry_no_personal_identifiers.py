"""Public topics are readable by any agency, so no event on them may carry a personal identifier.

The national register number (and its keyed hash), e-mail addresses, tokens, passwords and
birth dates travel only on restricted topics, which only the consumers named in
`contracts/topics.py` may read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from contracts.events import registry
from contracts.generate import event_schema
from contracts.topics import SERVICES, TOPICS, Visibility

#: Names matched as whole words of a property name (snake_case or camelCase words), since
#: as substrings they would hit innocent names ("processing" contains "ssin").
FORBIDDEN_WORDS = frozenset({"ssin", "nrn", "insz", "mail", "token", "password"})
#: Names matched anywhere in the name with separators removed, so Dutch compounds such as
#: "rijksregisternummer" or "emailAdres" are caught too.
FORBIDDEN_FRAGMENTS = (
    "nationalregister",
    "rijksregister",
    "email",
    "password",
    "birthdate",
    "dateofbirth",
    "nrnhash",
)


def looks_like_personal_identifier(name: str) -> bool:
    """Whether a property name looks like an NRN, e-mail, token, password or birth date."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    words = [word for word in re.split(r"[^a-z0-9]+", spaced) if word]
    singular = {word[:-1] if word.endswith("s") else word for word in words}
    squashed = "".join(words)
    return bool(FORBIDDEN_WORDS & (set(words) | singular)) or any(
        fragment in squashed for fragment in FORBIDDEN_FRAGMENTS
    )


def property_paths(schema: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, name) of every property declared anywhere in a schema, `$defs` included."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for name, subschema in value.items():
                    child = f"{path}.{name}" if path else name
                    yield child, name
                    yield from property_paths(subschema, child)
            elif key == "$defs" and isinstance(value, dict):
                for definition, subschema in value.items():
                    yield from property_paths(subschema, definition)
            elif key in ("items", "prefixItems", "additionalProperties"):
                yield from property_paths(value, f"{path}[]")
            else:  # anyOf, oneOf, allOf, ...: the same field
                yield from property_paths(value, path)
    elif isinstance(schema, list):
        for item in schema:
            yield from property_paths(item, path)


PUBLIC_EVENTS = [
    pytest.param(spec.name, event, id=f"{spec.name}:{event.__name__}")
    for spec in TOPICS.values()
    if spec.visibility is Visibility.PUBLIC
    for event in spec.events
]


@pytest.mark.parametrize(("topic", "event"), PUBLIC_EVENTS)
def test_public_event_has_no_personal_identifier(topic: str, event: type) -> None:
    offending = sorted(
        path
        for path, name in property_paths(event_schema(event))
        if looks_like_personal_identifier(name)
    )
    assert not offending, (
        f"{event.__name__} on public topic {topic} has properties that look like personal "
        f"identifiers: {offending}. Put them on a restricted topic instead."
    )


@pytest.mark.parametrize(
    "name",
    [
        "ssin",
        "nrn",
        "nrn_hash",
        "national_register_number",
        "rijksregisternummer",
        "insz",
        "email",
        "e_mail",
        "contactEmail",
        "mail",
        "invite_token",
        "accessToken",
        "password",
        "birth_date",
        "birthDate",
    ],
)
def test_detector_catches_personal_identifiers(name: str) -> None:
    assert looks_like_personal_identifier(name)


@pytest.mark.parametrize(
    "name", ["processing", "professional_id", "riziv_number", "official_last_name", "tokenizer"]
)
def test_detector_leaves_ordinary_names_alone(name: str) -> None:
    assert not looks_like_personal_identifier(name)


def test_detector_finds_the_nrn_hash_on_the_identities_topic() -> None:
    # Proves the walk reaches real schemas: this event must be flagged, hence restricted.
    names = [name for _, name in property_paths(event_schema(registry.ProfessionalIdentified))]
    assert any(looks_like_personal_identifier(name) for name in names)


def test_identity_topics_are_not_public() -> None:
    assert TOPICS[registry.IDENTITIES_TOPIC].visibility is Visibility.RESTRICTED
    assert TOPICS["identity.users.v1"].visibility is not Visibility.PUBLIC


def test_only_public_topics_have_external_readers() -> None:
    leaking = [
        name
        for name, spec in TOPICS.items()
        if spec.external_readers and spec.visibility is not Visibility.PUBLIC
    ]
    assert not leaking, f"non-public topics open to agencies: {leaking}"


@pytest.mark.parametrize("name", sorted(TOPICS))
def test_producer_and_consumers_are_known_services(name: str) -> None:
    spec = TOPICS[name]
    unknown = sorted({spec.producer, *spec.consumers} - set(SERVICES))
    assert not unknown, f"{name} names unknown services {unknown}; known: {SERVICES}"
