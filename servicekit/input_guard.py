"""Refuse, before any route runs, text that no service can store or look up.

A NUL character in a path id, a query filter or a JSON string reached PostgreSQL, which
refused it with a server error; a lone surrogate in a JSON string (`"\\ud800"`, valid
JSON) could not even be encoded. Checking every path, query and JSON body here, once,
answers each with a 422 problem naming the field, whatever route it was meant for.

- paths and query parameters (ids and filters): no control character at all;
- JSON bodies: no NUL and no lone surrogate in any string or key. Other control
  characters are the business of each field (line breaks are fine in a description).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.inputs import refused_character
from servicekit.problems import FieldError, invalid_fields


class InputGuard:
    """ASGI middleware: the checks above, for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors = list(_path_and_query_errors(scope))
        if not errors and _is_json(scope):
            body, receive = await _read_body(receive)
            errors = list(_json_errors(body))
        if errors:
            await invalid_fields(errors).response()(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _path_and_query_errors(scope: Scope) -> Iterator[FieldError]:
    reason = refused_character(str(scope.get("path", "")))
    if reason:
        yield FieldError("path", "", "invalid_character", f"The path {reason}.")
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        reason = refused_character(value) or refused_character(name)
        if reason:
            yield FieldError("query", name, "invalid_character", f"{name} {reason}.")


def _is_json(scope: Scope) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            media_type = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json" or media_type.endswith(b"+json")
    return False


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a `receive` that hands it to the app once more."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            # The client went away: let the app see it as it would have.
            return b"", _replay([message], receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _json_errors(body: bytes) -> Iterator[FieldError]:
    try:
        document = json.loads(body)
    except ValueError:
        return  # not JSON: the route's own parsing refuses it with the reason
    yield from _walk(document, ())


def _walk(value: Any, path: tuple[str | int, ...]) -> Iterator[FieldError]:
    if isinstance(value, str):
        reason = refused_character(value, controls=False)
        if reason:
            field = ".".join(str(p) for p in path)
            yield FieldError("body", field, "invalid_character", f"{field or 'The body'} {reason}.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            reason = refused_character(key, controls=False)
            if reason:
                yield FieldError(
                    "body",
                    ".".join(str(p) for p in path),
                    "invalid_character",
                    f"A field name {reason}.",
                )
            else:
                yield from _walk(item, (*path, key))
