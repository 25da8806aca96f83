"""Reading the problem details (RFC 9457) every service answers errors with."""

from __future__ import annotations

from typing import Any

import httpx

from servicekit.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX

MEMBERS = {"type", "code", "title", "status", "detail", "what_to_do", "errors"}


def problem_of(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """The problem document of `response`, after checking its shape (and its status)."""
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE), response.headers
    body: dict[str, Any] = response.json()
    assert body.keys() >= MEMBERS, body
    assert body["status"] == response.status_code, body
    assert body["type"] == PROBLEM_TYPE_PREFIX + body["code"], body
    assert body["title"] and body["detail"] and body["what_to_do"], body
    for error in body["errors"]:
        assert {"location", "field", "code", "message"} <= error.keys(), error
        assert error["message"], error
    return body


def code_of(response: httpx.Response) -> str:
    """The stable code of a problem answer."""
    return str(problem_of(response)["code"])


def error_locs(response: httpx.Response) -> list[list[str | int]]:
    """Where each refused field is, as FastAPI spells it: `["body", "emails", 1]`."""
    return [
        [error["location"], *(_part(p) for p in error["field"].split(".") if p)]
        for error in problem_of(response)["errors"]
    ]


def messages(response: httpx.Response) -> str:
    """Every message of a problem (detail, advice, field messages), for `in` checks."""
    body = problem_of(response)
    return " ".join([body["detail"], body["what_to_do"], *(e["message"] for e in body["errors"])])


def _part(text: str) -> str | int:
    return int(text) if text.isdigit() else text
