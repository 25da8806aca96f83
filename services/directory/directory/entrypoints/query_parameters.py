"""Query parameters of the public reads: refusing the ones an endpoint does not know (a
typo must not widen a search), and reading the usual ones without FastAPI's validation.

FastAPI validates a request's query parameters through pydantic, one field at a time, and
solves the endpoint's dependencies: for a list or search page answered from a few
statements, a large part of the request's Python. `direct` registers, for an endpoint,
readers that accept only values they can check completely (a length, a pattern, a range);
`direct_arguments` hands a request whose every parameter such a reader accepts straight
to the endpoint. Anything else (an unknown or repeated parameter, an empty or out-of-range
value, a type a reader does not take) goes through FastAPI as before, so every refusal,
with its message, is still FastAPI's.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError


def only_parameters(allowed: Iterable[str]) -> Callable[[Request], None]:
    """A FastAPI dependency that refuses, with 422, any query parameter not in `allowed`,
    and any given more than once: every parameter of these endpoints takes one value, and
    FastAPI would silently keep the last (`postcode=2000&postcode=1000` searched 1000)."""
    known = frozenset(allowed)

    def check(request: Request) -> None:
        names = [name for name, _ in request.query_params.multi_items()]
        unknown = sorted({name for name in names if name not in known})
        repeated = sorted({name for name in names if name in known and names.count(name) > 1})
        errors: list[dict[str, Any]] = [
            {
                "loc": ("query", name),
                "msg": f"unknown query parameter {name!r}; this endpoint takes "
                f"{', '.join(sorted(known))}",
                "type": "extra_forbidden",
                "input": request.query_params.get(name),
            }
            for name in unknown
        ]
        errors += [
            {
                "loc": ("query", name),
                "msg": f"{name} is given {names.count(name)} times; give it once "
                "(each parameter takes one value)",
                "type": "repeated_parameter",
                "input": request.query_params.getlist(name),
            }
            for name in repeated
        ]
        if errors:
            raise RequestValidationError(errors)

    return check


UNSURE = object()
"""What a reader returns for a value it leaves to FastAPI."""

Reader = Callable[[str], Any]


def text(max_length: int) -> Reader:
    """A string of at most `max_length` characters (FastAPI's `max_length`)."""
    return lambda value: value if len(value) <= max_length else UNSURE


def matching(pattern: str) -> Reader:
    """A string the whole of which matches `pattern` (FastAPI's `pattern`, anchored)."""
    compiled = re.compile(pattern)
    return lambda value: value if compiled.fullmatch(value) else UNSURE


def one_of(*values: str) -> Reader:
    allowed = frozenset(values)
    return lambda value: value if value in allowed else UNSURE


_DIGITS = re.compile(r"[0-9]{1,9}")
_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,9})?")


def integer(low: int, high: int) -> Reader:
    """An integer from `low` to `high` written with ASCII digits only."""

    def read(value: str) -> Any:
        if not _DIGITS.fullmatch(value):
            return UNSURE
        number = int(value)
        return number if low <= number <= high else UNSURE

    return read


def positive_number(value: str) -> Any:
    """A number above 0 written as digits with an optional decimal part."""
    if not _DECIMAL.fullmatch(value):
        return UNSURE
    number = float(value)
    return number if number > 0 else UNSURE


@dataclass(frozen=True)
class Direct:
    """How an endpoint is called without FastAPI: its query read by `readers` (None: the
    endpoint reads the query itself, from the request), its path parameters as they are
    (text), the request too when it `takes_request`."""

    readers: Mapping[str, Reader] | None
    takes_request: bool


_DIRECT: weakref.WeakKeyDictionary[Callable[..., Any], Direct] = weakref.WeakKeyDictionary()


def direct(
    endpoint: Callable[..., Any],
    readers: Mapping[str, Reader] | None,
    *,
    takes_request: bool = False,
) -> None:
    """Let requests to `endpoint` whose parameters `readers` all accept skip FastAPI's
    validation (the endpoint is then called with the values read, as keyword arguments;
    a parameter not given takes the endpoint's default, as through FastAPI). Only for an
    endpoint whose path parameters are text and whose dependencies only check the query."""
    _DIRECT[endpoint] = Direct(readers, takes_request)


def direct_of(endpoint: Callable[..., Any]) -> Direct | None:
    return _DIRECT.get(endpoint)


def direct_arguments(request: Request, how: Direct) -> dict[str, Any] | None:
    """The endpoint's arguments read from the path and query, or None: let FastAPI
    validate them."""
    found: dict[str, Any] = dict(request.path_params)
    if how.takes_request:
        found["request"] = request
    readers = how.readers
    if readers is None:
        return found
    for name, value in request.query_params.multi_items():
        reader = readers.get(name)
        if reader is None or not value or name in found:
            return None
        read = reader(value)
        if read is UNSURE:
            return None
        found[name] = read
    return found
