"""Logging in and out, the first-login e-mail address, activation, changing the address."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from portal.domain.languages import supported
from portal.domain.problems import errors_by_field
from portal.entrypoints.pages_public import safe_next
from portal.entrypoints.web import (
    CheckedForm,
    Clients,
    logged_in_user,
    render,
    see_other,
    session_of,
)
from portal.handlers import account
from portal.handlers.account import ServiceRefused

#: identity hands a portal login back here (identity's PORTAL_LOGIN_PATH).
LOGIN_DONE_PATH = "/aanmelden/klaar"
#: The session key of the page to return to after logging in.
RETURN_KEY = "return_to"
LOGIN_AS = {"professional": "professional", "burger": "citizen", "citizen": "citizen"}
#: Refusals identity sends back to LOGIN_DONE_PATH instead of a hand-over code.
LOGIN_REFUSALS = frozenset(
    {
        "not_eligible",
        "login_cancelled",
        "identity_provider_answer_rejected",
        "no_national_number",
        "rate_limited",
    }
)


def next_page(status: str | None) -> str:
    """Where a user goes after logging in, by the state of their profile."""
    if status == "needs_email":
        return "/e-mailadres"
    if status == "pending_activation":
        return "/e-mailadres/verzonden"
    return "/mijn-fiches"


router = APIRouter()


@router.get("/aanmelden")
async def login_choice(
    request: Request, terug: Annotated[str, Query(max_length=2000)] = ""
) -> Response:
    back = safe_next(terug)
    return render(request, "login_choice.html", terug="" if back == "/" else back)


@router.get("/aanmelden/start")
async def start_login(
    request: Request,
    als: Annotated[str, Query(max_length=20)] = "professional",
    terug: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    # The page that sent the visitor to log in (an invitation link): back there after.
    session_of(request).set(RETURN_KEY, safe_next(terug) if terug else None)
    login_as = LOGIN_AS.get(als, "professional")
    query = urlencode({"as": login_as, "return_to": LOGIN_DONE_PATH})
    return see_other(f"/api/identity/login?{query}")


@router.get(LOGIN_DONE_PATH)
async def login_done(
    request: Request,
    clients: Clients,
    code: Annotated[str, Query(max_length=200)] = "",
    check: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    if code in LOGIN_REFUSALS:
        # identity refused the login (e.g. not allowed to practise): say why, and what next.
        return render(request, "login_refused.html", reason=code, check=check, status=403)
    session = session_of(request)
    back = session.get(RETURN_KEY)
    try:
        await account.complete_login(clients, session, code)
    except ServiceRefused as refusal:
        return render(request, "problem.html", problem=refusal.problem, status=400)
    user = session.user or {}
    if back and user.get("status") == "active":
        return see_other(safe_next(back))
    if back:
        # Kept past the login's new session: offered once the address is confirmed.
        session.set(RETURN_KEY, back)
    return see_other(next_page(user.get("status")))


@router.post("/afmelden")
async def logout(request: Request, form: CheckedForm, clients: Clients) -> Response:
    await account.logout(clients, session_of(request))
    return see_other("/")


@router.get("/e-mailadres")
async def email_form(request: Request) -> Response:
    user = logged_in_user(request)
    return render(request, "email.html", values={"email": user.get("email") or ""})


@router.post("/e-mailadres")
async def give_email(request: Request, form: CheckedForm, clients: Clients) -> Response:
    logged_in_user(request)
    session = session_of(request)
    email = str(form.get("email", "")).strip()
    response = await account.identity_call(
        clients, session, "PUT", "/api/identity/me/email", json={"email": email}
    )
    if response.status_code != 202:
        problem = account.refused(response).problem
        return render(
            request,
            "email.html",
            status=422 if response.status_code == 422 else 409,
            values={"email": email},
            errors=errors_by_field(problem, "email"),
        )
    session.set("pending_email", response.json().get("email"))
    await account.refresh_profile(clients, session)
    return see_other("/e-mailadres/verzonden")


@router.get("/e-mailadres/verzonden")
async def check_mailbox(request: Request) -> Response:
    user = logged_in_user(request)
    address = session_of(request).get("pending_email") or user.get("email")
    return render(request, "check_mailbox.html", address=address)


@router.get("/activeren")
async def activation_page(
    request: Request, token: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    # A GET only shows the button: mail scanners that open links must not use them up.
    return render(request, "activate.html", token=token)


@router.post("/activeren")
async def activate(request: Request, form: CheckedForm, clients: Clients) -> Response:
    token = str(form.get("token", ""))
    response = await clients.call(
        "identity", "POST", "/api/identity/activate", data={"token": token}
    )
    if response.status_code != 200:
        problem = account.refused(response).problem
        return render(request, "activation_failed.html", problem=problem, status=410)
    session = session_of(request)
    # The page in the user's language, unless the visitor picked one.
    language = supported(response.json().get("language"))
    if language and not session.get("lang_chosen"):
        session.set("lang", language)
    back = None
    if session.user:
        await account.refresh_profile(clients, session)
        session.set("pending_email", None)
        # The page that sent them to log in (an invitation link), which the first login
        # could not return to before the address was confirmed: offered now, once.
        if (saved := session.get(RETURN_KEY)) and session.user.get("status") == "active":
            back = safe_next(saved)
            session.set(RETURN_KEY, None)
    return render(request, "activated.html", back=back)


@router.get("/mijn-profiel")
async def profile(request: Request, clients: Clients) -> Response:
    logged_in_user(request)
    await account.refresh_profile(clients, session_of(request))
    return render(request, "profile.html")
