"""identity's HTTP API: login through the OpenID provider, first-login e-mail, sessions,
access tokens, logout, and the public keys.

The routes only translate between HTTP and the use cases (`handlers/`): cookies in and
out, a use case's `Problem` into problem details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Cookie, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import Field

from identity.config import ACTIVATION_PATH, PORTAL_LOGIN_PATH
from identity.entrypoints.activation_page import activation_form, activation_result, page_language
from identity.handlers.problems import Problem
from identity.handlers.sessions import NewSession
from identity.handlers.use_cases import IdentityUseCases
from servicekit.client_address import ClientAddress
from servicekit.inputs import RequestBody
from servicekit.problems import FieldError
from servicekit.problems import Problem as ProblemDetails

SESSION_COOKIE = "skaart_session"
LOGIN_COOKIE = "skaart_login"
PREFIX = "/api/identity"


class HandoffIn(RequestBody):
    """The one-time code a portal login came back with."""

    code: str = Field(max_length=200)


class EmailIn(RequestBody):
    """The address for management messages and requested exports."""

    email: str = Field(description="Your e-mail address.", max_length=320)


def problem_response(problem: Problem) -> Response:
    """identity's refusal as problem details (servicekit.problems)."""
    headers = {"Retry-After": str(problem.retry_after)} if problem.retry_after else None
    errors = (
        [FieldError(problem.field_location, problem.field_name, problem.code, problem.message)]
        if problem.field_name
        else []
    )
    return ProblemDetails(
        problem.status,
        problem.code,
        problem.message,
        what_to_do=problem.what_to_do or None,
        errors=errors,
        headers=headers,
        extra=problem.extra,
    ).response()


@dataclass(frozen=True)
class Cookies:
    """How identity sets its cookies: the session's, and the started login's state."""

    secure: bool
    session_max_age_s: int
    login_max_age_s: int

    def set_session(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=self.session_max_age_s,
            path=PREFIX,
            httponly=True,
            secure=self.secure,
            samesite="lax",
        )

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path=PREFIX, secure=self.secure, httponly=True)

    def set_login(self, response: Response, state: str) -> None:
        response.set_cookie(
            LOGIN_COOKIE,
            state,
            max_age=self.login_max_age_s,
            path=PREFIX + "/login",
            httponly=True,
            secure=self.secure,
            samesite="lax",
        )

    def clear_login(self, response: Response) -> None:
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX + "/login")


def identity_router(
    use_cases: IdentityUseCases, cookies: Cookies, client_address: ClientAddress | None = None
) -> APIRouter:
    """identity's routes under /api/identity.

    `client_address` finds the client behind the trusted proxies (for the login limit).
    """
    router = APIRouter(prefix=PREFIX, tags=["identity"])
    add_login_routes(router, use_cases, cookies, client_address or ClientAddress())
    add_session_routes(router, use_cases, cookies)
    add_activation_routes(router, use_cases)
    return router


def _portal_login(path: str) -> bool:
    return path.split("?", 1)[0] == PORTAL_LOGIN_PATH


def _refused_login(problem: Problem) -> Response:
    if problem.return_to and _portal_login(problem.return_to):
        # A portal login: the portal explains the refusal on a page of its own.
        reason = {"code": problem.code, "check": problem.extra.get("check", "")}
        return RedirectResponse(f"{PORTAL_LOGIN_PATH}?{urlencode(reason)}", status_code=303)
    return problem_response(problem)


async def _logged_in(use_cases: IdentityUseCases, cookies: Cookies, new: NewSession) -> Response:
    if _portal_login(new.return_to):
        # The portal keeps the session server-side: the browser carries only a one-time
        # code, never the session itself.
        code = await use_cases.sessions.hand_over(new)
        return RedirectResponse(f"{PORTAL_LOGIN_PATH}?{urlencode({'code': code})}", status_code=303)
    response = RedirectResponse(new.return_to, status_code=303)
    cookies.set_session(response, new.token)
    return response


def add_login_routes(
    router: APIRouter, use_cases: IdentityUseCases, cookies: Cookies, resolver: ClientAddress
) -> None:
    """Starting a login, and the provider's answer."""

    @router.get("/login", summary="Start a login at the identity provider")
    async def login(
        request: Request,
        login_as: Annotated[
            str, Query(alias="as", description="professional or citizen")
        ] = "professional",
        return_to: Annotated[str, Query(description="Path to land on afterwards")] = (
            PREFIX + "/me"
        ),
    ) -> Response:
        try:
            await use_cases.limits.login(resolver.of(request))
            started = await use_cases.login.start(login_as, return_to)
        except Problem as problem:
            return problem_response(problem)
        response = RedirectResponse(started.authorization_url, status_code=303)
        cookies.set_login(response, started.state)
        return response

    @router.get("/login/callback", summary="Where the identity provider sends the browser back")
    async def callback(
        request: Request,
        code: str | None = None,
        state: str | None = None,
        error: str | None = None,
        login_cookie: Annotated[str | None, Cookie(alias=LOGIN_COOKIE)] = None,
    ) -> Response:
        try:
            await use_cases.limits.login(resolver.of(request))
            if error:
                raise Problem(
                    401,
                    "login_cancelled",
                    f"The identity provider did not log you in ({error[:64]}).",
                    "Start again at /api/identity/login.",
                )
            new = await use_cases.login.finish(state=state, cookie_state=login_cookie, code=code)
        except Problem as problem:
            response = _refused_login(problem)
        else:
            response = await _logged_in(use_cases, cookies, new)
        cookies.clear_login(response)
        return response


def add_session_routes(router: APIRouter, use_cases: IdentityUseCases, cookies: Cookies) -> None:
    """The session: the portal's hand-over, the profile, access tokens, logout, keys."""

    @router.post(
        "/session/handoff",
        summary="Exchange a portal login's one-time code for its session (the portal, server-side)",
    )
    async def handoff(body: HandoffIn) -> Response:
        try:
            taken = await use_cases.sessions.take_hand_over(body.code)
        except Problem as problem:
            return problem_response(problem)
        return JSONResponse(taken, headers={"Cache-Control": "no-store"})

    @router.get("/me", summary="Your profile and what to do next")
    async def me(
        session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
    ) -> Response:
        try:
            return JSONResponse(await use_cases.sessions.me(session))
        except Problem as problem:
            return problem_response(problem)

    @router.post("/token", summary="An access token for the API (active profiles)")
    async def token(
        session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
    ) -> Response:
        try:
            issued = await use_cases.tokens.issue(session)
        except Problem as problem:
            return problem_response(problem)
        return JSONResponse(issued, headers={"Cache-Control": "no-store"})

    @router.post("/logout", summary="End your session", status_code=204)
    async def logout(
        session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
    ) -> Response:
        await use_cases.sessions.end(session)
        response = Response(status_code=204)
        cookies.clear_session(response)
        return response

    @router.get("/jwks", summary="Public keys that verify access tokens")
    async def jwks() -> dict[str, Any]:
        return {"keys": await use_cases.tokens.public_keys()}


def add_activation_routes(router: APIRouter, use_cases: IdentityUseCases) -> None:
    """The first login's e-mail address and its activation link."""
    activation = use_cases.activation

    @router.put("/me/email", summary="Give your e-mail address (first login)")
    async def set_email(
        body: EmailIn,
        request: Request,
        session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
    ) -> Response:
        try:
            result = await activation.set_email(session, body.email)
        except Problem as problem:
            return problem_response(problem)
        return JSONResponse(_jsonable(result), status_code=202)

    @router.post("/me/email/resend", summary="Send a new activation link")
    async def resend(
        request: Request,
        session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
    ) -> Response:
        try:
            result = await activation.resend(session)
        except Problem as problem:
            return problem_response(problem)
        return JSONResponse(_jsonable(result), status_code=202)

    async def language(request: Request, token: str) -> str:
        user_language = await activation.language_of(token) if token else None
        return page_language(user_language, request.headers.get("accept-language"))

    @router.get(ACTIVATION_PATH.removeprefix(PREFIX), summary="The activation link's page")
    async def activation_page(request: Request, token: str = "") -> HTMLResponse:
        # A GET only shows a button: mail scanners that prefetch links must not use them.
        return HTMLResponse(activation_form(await language(request, token), token))

    @router.post(ACTIVATION_PATH.removeprefix(PREFIX), summary="Use an activation link")
    async def activate(request: Request, token: Annotated[str, Form(max_length=200)]) -> Response:
        # The page's button (a browser, asking for HTML) gets a page in the user's
        # language; API clients get JSON.
        browser = "text/html" in request.headers.get("accept", "")
        page_in = await language(request, token) if browser else "nl"
        try:
            outcome = await activation.activate(token)
        except Problem as problem:
            if browser:
                page = activation_result(page_in, None, problem.code, problem.what_to_do)
                return HTMLResponse(page, status_code=problem.status)
            return problem_response(problem)
        if browser:
            return HTMLResponse(activation_result(page_in, outcome))
        return JSONResponse(outcome)


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in value.items()}
