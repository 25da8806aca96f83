"""A small YAML writer (block style, quoted strings; enough for Kubernetes manifests).

Written here rather than with a YAML library so the output is the same on every machine
and every library version: the generated files are committed and checked byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from skaart.manifests.cluster import GENERATED_NOTE

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"})


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text)


def _yaml_lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{_scalar(key)}:")
                lines.extend(_yaml_lines(item, indent + (2 if isinstance(item, dict) else 0)))
            else:
                lines.append(f"{pad}{_scalar(key)}: {_inline(item)}")
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        for item in value:
            nested = _yaml_lines(item, indent + 2)
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}- {nested[0].lstrip()}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {_inline(item)}")
        return lines
    return [pad + _scalar(value)]


def _inline(value: Any) -> str:
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, list) and not value:
        return "[]"
    return _scalar(value)


def to_yaml(documents: Sequence[dict[str, Any]], *, source: str) -> str:
    """A multi-document YAML file with the generated-file note on top."""
    parts = [f"# {GENERATED_NOTE.format(source=source)}\n"]
    for document in documents:
        parts.append("---\n" + "\n".join(_yaml_lines(document, 0)) + "\n")
    return "".join(parts)
