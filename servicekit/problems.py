"""One error shape for every service: RFC 9457 problem details.

Every refusal and every failure of every service's HTTP API is answered as
`application/problem+json`:

    {
      "type": "urn:skaart:problem:not_a_manager",
      "code": "not_a_manager",
      "title": "Not allowed",
      "status": 403,
      "detail": "You are not a manager of Het Warmste Team.",
      "what_to_do": "Ask a manager of the practice to give you rights.",
      "errors": [{"location": "body", "field": "emails.1", "code": "invalid_address",
                  "message": "Address 2 is not a valid e-mail address: …"}]
    }

`code` (also the last part of `type`) is stable: clients switch on it. `title` is the
short summary of the status, `detail` says what happened this time, `what_to_do` what the
caller can do next, and `errors` (validation only, else empty) names each field that was
refused. docs/http-api.md documents the shape for API users.

Services raise `Problem` (or their own refusals, turned into one at their HTTP layer);
`install_problem_handlers` turns FastAPI's HTTPException and RequestValidationError, and
any unexpected exception, into the same shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit.readable_patterns import pattern_refusal

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:skaart:problem:"

#: Short, stable summaries per status (RFC 9457 `title`).
TITLES = {
    400: "The request cannot be read",
    401: "Log in first",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflicts with the current state",
    410: "No longer available",
    413: "The request is too large",
    415: "Unsupported content type",
    422: "Some fields are invalid",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "Temporarily unavailable",
}

#: Codes for refusals that carry none of their own (a plain HTTPException).
DEFAULT_CODES = {
    400: "bad_request",
    401: "not_logged_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

#: What to do next, when the refusal does not say.
DEFAULT_ADVICE = {
    400: "Correct the request and send it again.",
    401: "Log in and send the request again with a fresh access token.",
    403: "Check that you are logged in as the right person; ask whoever manages this for rights.",
    404: "Check the address and the id in it.",
    405: "Use one of the methods the API documentation (/docs) lists for this path.",
    409: "Reload the current state and decide again.",
    410: "Ask for a new one.",
    413: "Send a smaller request.",
    415: "Send the body as JSON (Content-Type: application/json).",
    422: "Correct the fields listed in `errors` and send the request again.",
    429: "Wait as long as the Retry-After header says, then try again.",
    500: "Try again in a moment; if it keeps failing, tell the platform team the time of "
    "the request.",
    503: "Try again in a moment.",
}


@dataclass(frozen=True)
class FieldError:
    """One refused field: where (`location`: body, query, path, header, cookie; `field`:
    its dotted path, `""` for the whole body), what (`code`) and a `message` for people."""

    location: str
    field: str
    code: str
    message: str

    @classmethod
    def at(cls, loc: Sequence[str | int], code: str, message: str) -> FieldError:
        """From a FastAPI/pydantic location such as `("body", "emails", 1)`."""
        location = str(loc[0]) if loc else "body"
        return cls(location, ".".join(str(part) for part in loc[1:]), code, message)

    def as_json(self) -> dict[str, str]:
        return {
            "location": self.location,
            "field": self.field,
            "code": self.code,
            "message": self.message,
        }


class Problem(Exception):
    """A refusal answered as problem details; raise it from a route or a dependency."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        what_to_do: str | None = None,
        title: str | None = None,
        errors: Iterable[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.what_to_do = what_to_do or DEFAULT_ADVICE.get(status, DEFAULT_ADVICE[400])
        self.title = title or TITLES.get(status) or _status_phrase(status)
        self.errors = tuple(errors)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The problem document (extension members after the standard ones)."""
        return {
            **self.extra,
            "type": PROBLEM_TYPE_PREFIX + self.code,
            "code": self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "what_to_do": self.what_to_do,
            "errors": [error.as_json() for error in self.errors],
        }

    def response(self) -> Response:
        # Text that came from the request may hold a lone surrogate, which UTF-8 cannot
        # carry: it is replaced rather than turning a refusal into a server error.
        content = json.dumps(self.body(), ensure_ascii=False).encode("utf-8", "replace")
        return Response(
            content, status_code=self.status, headers=self.headers, media_type=PROBLEM_MEDIA_TYPE
        )


def invalid_fields(errors: Iterable[FieldError], *, status: int = 422) -> Problem:
    """A validation refusal listing every refused field."""
    errors = tuple(errors)
    where = ", ".join(f"{e.location}.{e.field}" if e.field else e.location for e in errors[:5]) + (
        ", …" if len(errors) > 5 else ""
    )
    first = errors[0].message if errors else "The request is invalid."
    detail = first if len(errors) == 1 else f"{len(errors)} fields are invalid ({where})."
    return Problem(status, DEFAULT_CODES.get(status, "invalid_input"), detail, errors=errors)


def validation_problem(error: RequestValidationError) -> Problem:
    """FastAPI's validation errors as problem details; the refused input is not repeated
    (it may be personal data, or text that cannot even be encoded)."""
    field_errors = [
        FieldError.at(tuple(e.get("loc", ())), str(e.get("type", "invalid")), _message(e))
        for e in error.errors()
    ]
    if any(e.code == "json_invalid" for e in field_errors):
        # Not a field that is wrong: the body is no JSON at all.
        return Problem(
            400,
            "malformed_json",
            "The request body is not valid JSON: " + field_errors[0].message,
            what_to_do="Send a JSON document (UTF-8) as the body.",
            errors=field_errors,
        )
    return invalid_fields(field_errors)


def _message(error: Mapping[str, Any]) -> str:
    # A pattern declared with `described()` is refused in words, not as a regex.
    if (in_words := pattern_refusal(error)) is not None:
        return in_words
    message = str(error.get("msg", "invalid value"))
    # pydantic prefixes the messages of custom validators; people need only the message.
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def http_problem(error: StarletteHTTPException) -> Problem:
    """A plain HTTPException (a framework 404/405, or a route that raised one)."""
    headers = dict(error.headers or {})
    detail: Any = error.detail
    if isinstance(detail, Mapping):
        # A structured refusal: keep its code and advice.
        return Problem(
            error.status_code,
            str(detail.get("code") or DEFAULT_CODES.get(error.status_code, "error")),
            str(detail.get("message") or detail.get("detail") or ""),
            what_to_do=detail.get("what_to_do"),
            headers=headers,
        )
    return Problem(
        error.status_code,
        DEFAULT_CODES.get(error.status_code, f"http_{error.status_code}"),
        str(detail) if detail else _status_phrase(error.status_code),
        headers=headers,
    )


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every refusal and failure of `app` as problem details."""

    async def on_problem(_: Request, error: Exception) -> Response:
        assert isinstance(error, Problem)
        return error.response()

    async def on_validation(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return validation_problem(error).response()

    async def on_http(_: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        return http_problem(error).response()

    async def on_unexpected(_: Request, error: Exception) -> Response:
        # Starlette logs the exception and re-raises it after this answer.
        return Problem(
            500,
            "internal_error",
            "The request could not be completed because of an error on our side.",
        ).response()

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
