"""What every write router shares: the caller, and refusals turned into HTTP answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from fastapi import Depends
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from fiches.handlers.errors import FicheError, Invalid
from servicekit.auth import AccessTokenVerifier, Caller, bearer_caller, require
from servicekit.problems import FieldError, Problem, invalid_fields

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

CallerDependency = Callable[..., Awaitable[Caller]]


def logged_in(verifier: AccessTokenVerifier) -> CallerDependency:
    """FastAPI dependency: the logged-in (hence activated) caller, or 401."""
    optional = bearer_caller(verifier)

    # A default, not Annotated: `optional` is local, which a postponed annotation cannot name.
    async def dependency(caller: Caller | None = Depends(optional)) -> Caller:
        return require(caller)

    return dependency


async def answer(awaitable: Awaitable[T]) -> T:
    """Run a use case; a refusal becomes a problem with its status, code and reason."""
    try:
        return await awaitable
    except Invalid as error:
        raise invalid_fields([FieldError.at(error.loc, error.code, error.message)]) from error
    except FicheError as error:
        details = dict(error.details or {})
        code = str(details.pop("code", error.code))
        what_to_do = details.pop("what_to_do", None)
        raise Problem(
            error.status, code, error.message, what_to_do=what_to_do, extra=details
        ) from error


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
