"""What every page shares: the browser session, CSRF, language, rendering, error pages.

`WebSession` and `LoginRequired` live in domain/session.py (the handlers use them too)
and are imported from here by the pages."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.profession_labels import profession_label
from portal.adapters.services import ServiceClients
from portal.adapters.session_store import SessionStore
from portal.adapters.translations import translator
from portal.config import PortalSettings
from portal.domain.languages import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    spoken_language_name,
    supported,
)
from portal.domain.local_times import local_date, local_time
from portal.domain.phone_numbers import dialable_phone_number, readable_phone_number
from portal.domain.problems import page_words
from portal.domain.requests import INVITATION_STATES
from portal.domain.session import LoginRequired, WebSession
from servicekit.logging import current_correlation_id

COOKIE = "skaart_portal"
CSRF_FIELD = "csrf_token"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
# The templates ship with the package: no need to stat every file at every render.
TEMPLATES.env.auto_reload = False
# Phone numbers: shown as people read them, linked as phones dial them (E.164).
TEMPLATES.env.filters["phone"] = readable_phone_number
TEMPLATES.env.filters["tel"] = dialable_phone_number
# Codes the services use, in people's words (the page's `_` then translates them).
TEMPLATES.env.filters["spoken"] = spoken_language_name
TEMPLATES.env.filters["invitation_state"] = lambda state: INVITATION_STATES.get(state, state)
# The services' UTC moments as a clock in Belgium reads them (portal.domain.local_times).
TEMPLATES.env.filters["day"] = local_date
TEMPLATES.env.globals["problem_words"] = page_words
TEMPLATES.env.filters["when"] = local_time


class SessionMiddleware:
    """Loads the session from its cookie before a page, saves it (and sets the cookie) when
    the page changed it. Plain ASGI: no per-request task, unlike BaseHTTPMiddleware."""

    def __init__(
        self, app: ASGIApp, *, store: SessionStore, settings: PortalSettings, secure: bool
    ) -> None:
        self._app = app
        self._store = store
        self._ttl_s = int(settings.session_ttl_hours * 3600)
        self._secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        cookie = Request(scope).cookies.get(COOKIE)
        data = await self._store.load(cookie) if cookie else None
        session = WebSession(cookie if data is not None else None, data)
        scope.setdefault("state", {})["session"] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.changed:
                headers = MutableHeaders(scope=message)
                headers.append("set-cookie", await self._saved(session, cookie))
            await send(message)

        await self._app(scope, receive, send_with_cookie)

    async def _saved(self, session: WebSession, cookie: str | None) -> str:
        """Store the session; the Set-Cookie header value that names it."""
        if cookie and session.id != cookie:
            await self._store.delete(cookie)
        session.id = session.id or secrets.token_urlsafe(32)
        await self._store.save(session.id, session.data, self._ttl_s)
        carrier = Response()
        carrier.set_cookie(
            COOKIE,
            session.id,
            max_age=self._ttl_s,
            path="/",
            httponly=True,
            secure=self._secure,
            samesite="lax",
        )
        return carrier.headers["set-cookie"]


def session_of(request: Request) -> WebSession:
    session = getattr(request.state, "session", None)
    if session is None:  # an error page rendered outside the session middleware
        session = request.state.session = WebSession(None, None)
    assert isinstance(session, WebSession)
    return session


def language_of(request: Request) -> str:
    """The session's language, else a `lang` in the address (mailed links), else Dutch."""
    return (
        supported(session_of(request).get("lang"))
        or supported(request.query_params.get("lang"))
        or DEFAULT_LANGUAGE
    )


@dataclass(frozen=True)
class Site:
    """Settings the layout shows on every page."""

    help_email: str
    help_url: str


def kilometres(distance: float, language: str) -> str:
    """A distance in km to one decimal, written as the visitor's language writes it
    (2,3 in Dutch and French, 2.3 in English)."""
    text = f"{distance:.1f}"
    return text if language == "en" else text.replace(".", ",")


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """A page in the visitor's language."""
    language = language_of(request)
    session = session_of(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "_": translator(language),
            "lang": language,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "here": quote(here, safe="/?=&"),
            "user": session.user,
            "session": session,
            "site": request.app.state.site,
            "profession": lambda code: profession_label(code, language),
            "professions": lambda codes: ", ".join(profession_label(c, language) for c in codes),
            "km": lambda distance: kilometres(distance, language),
            "errors": {},
            "values": {},
            # The request's correlation id: an error page shows it, for the help desk.
            "reference": current_correlation_id(),
            **context,
        },
        status_code=status,
        headers={"Cache-Control": "no-store"} if session.user else None,
    )


class CsrfRejected(Exception):
    """A form without this session's CSRF token."""


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form()
    expected = session_of(request).get("csrf")
    sent = form.get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise CsrfRejected()
    return form


#: A route parameter for a posted form whose CSRF token was checked.
CheckedForm = Annotated[FormData, Depends(checked_form)]


def logged_in_user(request: Request) -> dict[str, Any]:
    """The session's user, or LoginRequired (the page sends the visitor to log in)."""
    user = session_of(request).user
    if user is None:
        raise LoginRequired()
    return user


def clients_of(request: Request) -> ServiceClients:
    """The clients of the services the portal calls (set on the app when it is built)."""
    clients: ServiceClients = request.app.state.clients
    return clients


#: A route parameter: the clients of identity, fiches and invitations.
Clients = Annotated[ServiceClients, Depends(clients_of)]


def see_other(path: str) -> Response:
    """After a form: the next page, fetched with GET (303), so a reload does not post again."""
    return RedirectResponse(path, status_code=303)
