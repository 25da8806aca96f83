"""What every write router shares: the caller, and refusals turned into HTTP answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from fiches.handlers.errors import FicheError, Invalid
from servicekit.auth import AccessTokenVerifier, Caller, bearer_caller, require

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

CallerDependency = Callable[[Request], Awaitable[Caller]]


def logged_in(verifier: AccessTokenVerifier) -> CallerDependency:
    """FastAPI dependency: the logged-in (hence activated) caller, or 401."""
    optional = bearer_caller(verifier)

    async def dependency(request: Request) -> Caller:
        return require(await optional(request))

    return dependency


async def answer(awaitable: Awaitable[T]) -> T:
    """Run a use case; a refusal becomes its HTTP status with the reason."""
    try:
        return await awaitable
    except Invalid as error:
        raise HTTPException(
            422, detail=[{"loc": list(error.loc), "msg": error.message, "type": "value_error"}]
        ) from error
    except FicheError as error:
        detail: Any = error.message
        if error.details:
            detail = {"message": error.message, **error.details}
        raise HTTPException(error.status, detail=detail) from error


def validated(model: type[M], value: Any, loc: Sequence[str | int]) -> M:
    """Validate a nested value, reporting errors at their place in the request body."""
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise RequestValidationError(
            [
                {
                    **e,
                    "loc": (*loc, *e["loc"]),
                    "ctx": _text(e.get("ctx", {})),
                }
                for e in error.errors(include_url=False)
            ]
        ) from error


def _text(context: Any) -> dict[str, str]:
    # An error's context may hold the exception itself, which JSON cannot carry.
    return {key: str(value) for key, value in dict(context).items()}
