"""Refusing query parameters an endpoint does not know (a typo must not widen a search)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fastapi import Request
from fastapi.exceptions import RequestValidationError


def only_parameters(allowed: Iterable[str]) -> Callable[[Request], None]:
    """A FastAPI dependency that refuses, with 422, any query parameter not in `allowed`."""
    known = frozenset(allowed)

    def check(request: Request) -> None:
        unknown = sorted({name for name in request.query_params if name not in known})
        if unknown:
            raise RequestValidationError(
                [
                    {
                        "loc": ("query", name),
                        "msg": f"unknown query parameter {name!r}; this endpoint takes "
                        f"{', '.join(sorted(known))}",
                        "type": "extra_forbidden",
                        "input": request.query_params.get(name),
                    }
                    for name in unknown
                ]
            )

    return check
