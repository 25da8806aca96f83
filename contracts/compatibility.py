"""Find the changes between two JSON Schemas of one event that would break its readers.

A `.v1` topic promises compatibility in both directions, because both directions happen:

* consumers built against the old schema read messages produced under the new one
  (agencies upgrade on their own schedule), and
* consumers built against the new schema read messages produced under the old one, since
  topics keep weeks of history, compacted topics keep it forever, and a new consumer
  group starts from the beginning.

So a schema may only grow in the two ways consumers are told to expect (docs/contracts.md):

* a new **optional** property: every consumer ignores unknown fields (`Event` is declared
  with ``extra="ignore"``), and old messages simply lack it;
* a new **enum value**: the documentation says enums are open and that a consumer must
  accept a value it does not know.

Everything else is reported: a property removed, required where it was optional (old
messages lack it), newly required, no longer required (new messages may lack it), a type,
format, const or validation constraint changed, nullable made non-nullable or the other
way round, enum values removed, and union variants added or removed. Such a change belongs
on a new versioned topic, not in an edit of the v1 event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["breaking_changes"]

Schema = Mapping[str, Any]

#: Validation keywords whose change, in either direction, changes which values are valid.
_CONSTRAINT_KEYWORDS = (
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
)

_UNION_KEYWORDS = ("anyOf", "oneOf")


def breaking_changes(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Human-readable breaking changes from `old_schema` to `new_schema` (empty: compatible).

    Both are JSON Schemas of the same event; local `$ref`s (`#/$defs/...` or any other
    JSON pointer into the same document) are resolved, and nested objects, arrays, maps
    and unions are compared recursively. Each sentence names the field path, with `[]`
    for array items and `.*` for map values, e.g. ``professions[].riziv_status``.
    """
    comparison = _Comparison(old_schema, new_schema)
    comparison.compare(old_schema, new_schema, "")
    return comparison.problems


class _Document:
    """One schema document, for resolving its local references."""

    def __init__(self, root: Schema) -> None:
        self._root = root

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise ValueError(f"only local $refs are supported, got {ref!r}")
        node: Any = self._root
        pointer = ref[1:]
        for token in pointer.split("/")[1:] if pointer else []:
            token = token.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(token)] if isinstance(node, list) else node[token]
            except (KeyError, IndexError, ValueError, TypeError):
                raise ValueError(f"cannot resolve $ref {ref!r}") from None
        return node

    def resolve(self, node: Any) -> tuple[Schema, str | None]:
        """The schema with `$ref`s and single-element `allOf`s merged in, and the last ref.

        Keywords next to a `$ref` (pydantic puts `description` there) win over the target.
        """
        if isinstance(node, bool):
            return ({} if node else {"not": {}}), None
        if not isinstance(node, Mapping):
            raise ValueError(f"not a schema: {node!r}")
        last_ref: str | None = None
        seen: set[str] = set()
        while True:
            if "$ref" in node:
                ref = node["$ref"]
                if ref in seen:
                    raise ValueError(f"$ref {ref!r} refers to itself")
                seen.add(ref)
                last_ref = ref
                target = self.lookup(ref)
                if isinstance(target, bool):
                    target = {} if target else {"not": {}}
                siblings = {k: v for k, v in node.items() if k != "$ref"}
                node = {**target, **siblings}
            elif isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
                inner, inner_ref = self.resolve(node["allOf"][0])
                siblings = {k: v for k, v in node.items() if k != "allOf"}
                node = {**inner, **siblings}
                last_ref = inner_ref or last_ref
            else:
                return node, last_ref


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old = _Document(old_root)
        self.new = _Document(new_root)
        self.problems: list[str] = []
        # Pairs of definitions being compared further up; stops recursive models.
        self._active: set[tuple[str, str]] = set()

    def report(self, path: str, message: str) -> None:
        self.problems.append(f"{_label(path)} {message}")

    def compare(self, old_node: Any, new_node: Any, path: str) -> None:
        old, old_ref = self.old.resolve(old_node)
        new, new_ref = self.new.resolve(new_node)
        pair = (old_ref, new_ref)
        if old_ref is not None and new_ref is not None:
            if pair in self._active:
                return
            self._active.add((old_ref, new_ref))
        try:
            self._compare_resolved(old, new, path)
        finally:
            if old_ref is not None and new_ref is not None:
                self._active.discard((old_ref, new_ref))

    def _compare_resolved(self, old: Schema, new: Schema, path: str) -> None:
        old_nullable, old_core = self._split_null(old, self.old)
        new_nullable, new_core = self._split_null(new, self.new)
        if old_nullable and not new_nullable:
            self.report(path, "is no longer nullable: null was allowed before")
        elif new_nullable and not old_nullable:
            self.report(path, "may now be null, which it could not be before")
        if old_core is None or new_core is None:
            if (old_core is None) != (new_core is None):
                self.report(
                    path, f"changed type from {_describe(old_core)} to {_describe(new_core)}"
                )
            return
        if old_core is not old or new_core is not new:
            # A null branch was split off; compare what is left (it may be a $ref).
            self.compare(old_core, new_core, path)
            return
        self._compare_core(old, new, path)

    def _split_null(self, schema: Schema, document: _Document) -> tuple[bool, Any]:
        """(accepts null, the schema without null or None when only null is accepted)."""
        for keyword in _UNION_KEYWORDS:
            branches = schema.get(keyword)
            if isinstance(branches, list):
                rest = [b for b in branches if not _is_null(document.resolve(b)[0])]
                if len(rest) == len(branches):
                    return False, schema
                if not rest:
                    return True, None
                if len(rest) == 1:
                    return True, rest[0]
                return True, {**schema, keyword: rest}
        types = schema.get("type")
        if isinstance(types, list) and "null" in types:
            rest_types = [t for t in types if t != "null"]
            if not rest_types:
                return True, None
            return True, {**schema, "type": rest_types[0] if len(rest_types) == 1 else rest_types}
        if _is_null(schema):
            return True, None
        enum = schema.get("enum")
        if isinstance(enum, list) and None in enum:
            return True, {**schema, "enum": [v for v in enum if v is not None]}
        return False, schema

    def _compare_core(self, old: Schema, new: Schema, path: str) -> None:
        old_union, new_union = _union(old), _union(new)
        if old_union is not None or new_union is not None:
            self._compare_unions(old, new, old_union, new_union, path)
            return

        old_types, new_types = _types(old), _types(new)
        if old_types != new_types:
            self.report(path, f"changed type from {_describe(old)} to {_describe(new)}")
            return
        if old.get("format") != new.get("format"):
            self.report(
                path,
                f"changed format from {_show(old.get('format'))} to {_show(new.get('format'))}",
            )
        self._compare_values(old, new, path)
        for keyword in _CONSTRAINT_KEYWORDS:
            if old.get(keyword) != new.get(keyword):
                self.report(
                    path,
                    f"changed {keyword} from {_show(old.get(keyword))} "
                    f"to {_show(new.get(keyword))}",
                )
        if "object" in old_types:
            self._compare_objects(old, new, path)
        if "array" in old_types:
            self._compare_arrays(old, new, path)

    def _compare_values(self, old: Schema, new: Schema, path: str) -> None:
        """Enum and const: values may be added (enums are open), never removed."""
        old_values, new_values = _allowed_values(old), _allowed_values(new)
        if old_values is None:
            if new_values is not None:
                self.report(path, f"is now restricted to the values {_values(new_values)}")
        elif new_values is None:
            self.report(path, f"is no longer restricted to the values {_values(old_values)}")
        else:
            new_keys = {_canonical(v) for v in new_values}
            removed = [v for v in old_values if _canonical(v) not in new_keys]
            if removed:
                self.report(path, f"no longer allows the value(s) {_values(removed)}")

    def _compare_objects(self, old: Schema, new: Schema, path: str) -> None:
        old_properties: Mapping[str, Any] = old.get("properties", {})
        new_properties: Mapping[str, Any] = new.get("properties", {})
        old_required = set(old.get("required", ()))
        new_required = set(new.get("required", ()))
        for name, old_property in old_properties.items():
            child = _join(path, name)
            if name not in new_properties:
                self.problems.append(f"property `{child}` was removed")
                continue
            if name in new_required and name not in old_required:
                self.report(child, "was optional and is now required")
            elif name in old_required and name not in new_required:
                self.report(child, "was required and is now optional, so it may be missing")
            self.compare(old_property, new_properties[name], child)
        for name in new_properties:
            if name not in old_properties and name in new_required:
                self.problems.append(f"new required property `{_join(path, name)}`")

        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
            self.compare(old_extra, new_extra, f"{path}.*" if path else "*")
        elif isinstance(old_extra, Mapping) or isinstance(new_extra, Mapping):
            self.report(
                path,
                "changed the type of its map values from "
                f"{_describe_extra(old_extra)} to {_describe_extra(new_extra)}",
            )

    def _compare_arrays(self, old: Schema, new: Schema, path: str) -> None:
        old_items, new_items = old.get("items"), new.get("items")
        if old_items is not None and new_items is not None:
            self.compare(old_items, new_items, f"{path}[]")
        elif old_items is not None or new_items is not None:
            self.report(
                path,
                f"changed its item type from {_describe_items(old_items)} "
                f"to {_describe_items(new_items)}",
            )
        old_prefix = old.get("prefixItems") or []
        new_prefix = new.get("prefixItems") or []
        if len(old_prefix) != len(new_prefix):
            self.report(
                path, f"changed from a tuple of {len(old_prefix)} to {len(new_prefix)} items"
            )
        for index, (old_item, new_item) in enumerate(zip(old_prefix, new_prefix, strict=False)):
            self.compare(old_item, new_item, f"{path}[{index}]")

    def _compare_unions(
        self,
        old: Schema,
        new: Schema,
        old_union: Sequence[Any] | None,
        new_union: Sequence[Any] | None,
        path: str,
    ) -> None:
        if old_union is None or new_union is None:
            self.report(path, f"changed type from {_describe(old)} to {_describe(new)}")
            return
        old_variants = self._variants(old_union, self.old)
        new_variants = self._variants(new_union, self.new)
        for key, old_variant in old_variants.items():
            if key not in new_variants:
                self.report(path, f"no longer accepts the variant {key}")
            else:
                self.compare(old_variant, new_variants[key], path)
        for key in new_variants:
            if key not in old_variants:
                self.report(path, f"may now be the variant {key}, unknown to existing readers")

    @staticmethod
    def _variants(branches: Sequence[Any], document: _Document) -> dict[str, Any]:
        """Union branches by a name stable across versions: the model title, else the type."""
        variants: dict[str, Any] = {}
        for branch in branches:
            resolved, _ = document.resolve(branch)
            key = resolved.get("title") or _describe(resolved)
            variants.setdefault(str(key), branch)
        return variants


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _label(path: str) -> str:
    return f"property `{path}`" if path else "the event"


def _is_null(schema: Schema) -> bool:
    return (
        schema.get("type") == "null"
        or ("const" in schema and schema["const"] is None)
        or schema.get("enum") == [None]
    )


def _union(schema: Schema) -> Sequence[Any] | None:
    for keyword in _UNION_KEYWORDS:
        branches = schema.get(keyword)
        if isinstance(branches, list):
            return branches
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _types(schema: Schema) -> frozenset[str]:
    """The JSON types a (non-union) schema admits; `any` when it does not say."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(declared)
    values = _allowed_values(schema)
    if values is not None:
        return frozenset(_json_type(v) for v in values)
    if "properties" in schema or "additionalProperties" in schema:
        return frozenset({"object"})
    if "items" in schema or "prefixItems" in schema:
        return frozenset({"array"})
    if "not" in schema and schema["not"] == {}:
        return frozenset({"nothing"})
    return frozenset({"any"})


def _allowed_values(schema: Schema) -> list[Any] | None:
    """The enumerated values (a `const` is a one-value enum), or None when unrestricted."""
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _canonical(value: Any) -> str:
    # JSON text, so that 1, 1.0 and true are told apart the way a validator does.
    return json.dumps(value, sort_keys=True)


def _values(values: Sequence[Any]) -> str:
    return ", ".join(_canonical(v) for v in values)


def _show(value: Any) -> str:
    return "none" if value is None else _canonical(value)


def _describe(schema: Schema | None) -> str:
    """A short human name of a schema's type, for messages."""
    if schema is None:
        return "null"
    union = _union(schema)
    if union is not None:
        return "one of (" + ", ".join(_describe(_shallow(b)) for b in union) + ")"
    title = schema.get("title") if "properties" in schema else None
    description = " or ".join(sorted(_types(schema)))
    if title:
        description = f"object {title}"
    if "format" in schema:
        description += f" ({schema['format']})"
    return description


def _shallow(branch: Any) -> Schema:
    """A union branch for description only: a `$ref` is named by its last segment."""
    if isinstance(branch, Mapping) and "$ref" in branch:
        return {"title": str(branch["$ref"]).rsplit("/", 1)[-1], "properties": {}}
    return branch if isinstance(branch, Mapping) else {}


def _describe_extra(value: Any) -> str:
    if isinstance(value, Mapping):
        return _describe(_shallow(value))
    return "nothing" if value is False else "anything"


def _describe_items(value: Any) -> str:
    return _describe(_shallow(value)) if isinstance(value, Mapping) else "anything"
