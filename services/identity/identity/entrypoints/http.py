"""identity's HTTP API: login through the OpenID provider, first-login e-mail, sessions,
access tokens, logout, and the public keys."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Cookie, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import Field

from identity.config import ACTIVATION_PATH, PORTAL_LOGIN_PATH
from identity.entrypoints.activation_page import activation_form, activation_result, page_language
from identity.handlers.accounts import Accounts, Problem
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


def identity_router(
    accounts: Accounts, *, cookie_secure: bool, client_address: ClientAddress | None = None
) -> APIRouter:
    """identity's routes under /api/identity.

    `client_address` finds the client behind the trusted proxies (for the login limit).
    """
    router = APIRouter(prefix=PREFIX, tags=["identity"])
    resolver = client_address or ClientAddress()

    def _ip(request: Request) -> str:
        return resolver.of(request)

    session_max_age = int(accounts.settings.session_ttl_hours * 3600)

    def session_cookie(response: Response, value: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=session_max_age,
            path=PREFIX,
            httponly=True,
            secure=cookie_secure,
            samesite="lax",
        )

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
            await accounts.limit_login(_ip(request))
            started = await accounts.start_login(login_as, return_to)
        except Problem as problem:
            return problem_response(problem)
        response = RedirectResponse(started.authorization_url, status_code=303)
        response.set_cookie(
            LOGIN_COOKIE,
            started.state,
            max_age=accounts.settings.login_request_ttl_s,
            path=PREFIX + "/login",
            httponly=True,
            secure=cookie_secure,
            samesite="lax",
        )
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
            await accounts.limit_login(_ip(request))
            if error:
                raise Problem(
                    401,
                    "login_cancelled",
                    f"The identity provider did not log you in ({error[:64]}).",
                    "Start again at /api/identity/login.",
                )
            new = await accounts.finish_login(state=state, cookie_state=login_cookie, code=code)
        except Problem as problem:
            response: Response = problem_response(problem)
            if problem.return_to and problem.return_to.split("?", 1)[0] == PORTAL_LOGIN_PATH:
                # A portal login: the portal explains the refusal on a page of its own.
                reason = {"code": problem.code, **{"check": problem.extra.get("check", "")}}
                response = RedirectResponse(
                    f"{PORTAL_LOGIN_PATH}?{urlencode(reason)}", status_code=303
                )
        else:
            if new.return_to.split("?", 1)[0] == PORTAL_LOGIN_PATH:
                # The portal keeps the session server-side: the browser carries only a
                # one-time code, never the session itself.
                code = await accounts.hand_over(new)
                response = RedirectResponse(
                    f"{PORTAL_LOGIN_PATH}?{urlencode({'code': code})}", status_code=303
                )
            else:
                response = RedirectResponse(new.return_to, status_code=303)
                session_cookie(response, new.token)
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX + "/login")
        return response

    @router.post(
        "/session/handoff",
        summary="Exchange a portal login's one-time code for its session (the portal, server-side)",
    )
    async def handoff(body: HandoffIn) -> Response:
        try:
            taken = await accounts.take_hand_over(body.code)
        except Problem as problem:
            return problem_response(problem)
        return JSONResponse(taken, headers={"Cache-Control": "no-store"})

    @router.get("/me", summary="Your profile and what to do next")
    async def me(
        session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
    ) -> Response:
        try:
            return JSONResponse(await accounts.me(session))
        except Problem as problem:
            return problem_response(problem)

    @router.put("/me/email", summary="Give your e-mail address (first login)")
    async def set_email(
        body: EmailIn,
        request: Request,
        session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
    ) -> Response:
        try:
            result = await accounts.set_email(session, body.email)
        except Problem as problem:
            return problem_response(problem)
        return JSONResponse(_jsonable(result), status_code=202)

    @router.post("/me/email/resend", summary="Send a new activation link")
    async def resend(
        request: Request,
        session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
    ) -> Response:
        try:
            result = await accounts.resend(session)
        except Problem as problem:
            return problem_response(problem)
        return JSONResponse(_jsonable(result), status_code=202)

    @router.get(ACTIVATION_PATH.removeprefix(PREFIX), summary="The activation link's page")
    async def activation_page(request: Request, token: str = "") -> HTMLResponse:
        # A GET only shows a button: mail scanners that prefetch links must not use them.
        language = page_language(
            await accounts.activation_language(token) if token else None,
            request.headers.get("accept-language"),
        )
        return HTMLResponse(activation_form(language, token))

    @router.post(ACTIVATION_PATH.removeprefix(PREFIX), summary="Use an activation link")
    async def activate(request: Request, token: Annotated[str, Form(max_length=200)]) -> Response:
        # The page's button (a browser, asking for HTML) gets a page in the user's
        # language; API clients get JSON.
        browser = "text/html" in request.headers.get("accept", "")
        language = (
            page_language(
                await accounts.activation_language(token),
                request.headers.get("accept-language"),
            )
            if browser
            else "nl"
        )
        try:
            outcome = await accounts.activate(token)
        except Problem as problem:
            if browser:
                page = activation_result(language, None, problem.code, problem.what_to_do)
                return HTMLResponse(page, status_code=problem.status)
            return problem_response(problem)
        if browser:
            return HTMLResponse(activation_result(language, outcome))
        return JSONResponse(outcome)

    @router.post("/token", summary="An access token for the API (active profiles)")
    async def token(
        session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
    ) -> Response:
        try:
            issued = await accounts.access_token(session)
        except Problem as problem:
            return problem_response(problem)
        return JSONResponse(issued, headers={"Cache-Control": "no-store"})

    @router.post("/logout", summary="End your session", status_code=204)
    async def logout(
        session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
    ) -> Response:
        await accounts.logout(session)
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX, secure=cookie_secure, httponly=True)
        return response

    @router.get("/jwks", summary="Public keys that verify access tokens")
    async def jwks() -> dict[str, Any]:
        async with accounts.sessions() as db:
            listing = await accounts.keys.listing(db)
        return {"keys": [key["public_jwk"] for key in listing if key["announced"]]}

    return router


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in value.items()}
