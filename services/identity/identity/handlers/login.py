"""Login through the OpenID provider, as a professional or as a citizen.

`start` records a login request (state, nonce, PKCE verifier) and sends the browser to the
provider; `finish` takes the provider's answer once, checks it, identifies the person by
the keyed hash of their national register number, and opens a session. A professional
login is allowed only when the register says the person may practise now (the facts
identity keeps from registry-sync's events); a citizen login needs no register entry.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity.adapters.oidc import OidcClient, OidcError
from identity.adapters.tables import login_requests, users
from identity.domain.eligibility import decide
from identity.domain.nrn import InvalidNationalNumber, NrnHasher
from identity.domain.secrets import new_token, pkce_challenge, token_hash
from identity.handlers.problems import START_AGAIN, Problem, UserStatus, rowcount, utc_now
from identity.handlers.profiles import Profiles
from identity.handlers.registry_events import facts_for
from identity.handlers.sessions import NewSession, Sessions

log = logging.getLogger(__name__)

LOGIN_AS = ("professional", "citizen")
LANGUAGES = ("nl", "fr", "en")


def _language(value: Any) -> str:
    code = str(value or "").strip().lower()[:2]
    return code if code in LANGUAGES else "nl"


@dataclass(frozen=True)
class StartedLogin:
    """Where to send the browser, and the state its login cookie must carry back."""

    state: str
    authorization_url: str


@dataclass(frozen=True)
class Person:
    """Who the provider's answer names: the keyed hash, the name, the language."""

    nrn_hash: str
    given_name: str
    surname: str
    language: str


def _checked_start(login_as: str, return_to: str) -> None:
    if login_as not in LOGIN_AS:
        raise Problem(
            422,
            "invalid_login_as",
            f"`as` must be one of {', '.join(LOGIN_AS)}.",
            "Use /api/identity/login?as=professional or ?as=citizen.",
            field_name="as",
            field_location="query",
        )
    if not return_to.startswith("/") or return_to.startswith("//") or "\\" in return_to:
        raise Problem(
            422,
            "invalid_return_to",
            "`return_to` must be a path on this site (starting with a single /).",
            "Leave it out to land on /api/identity/me.",
            field_name="return_to",
            field_location="query",
        )


@dataclass
class Login:
    """The OpenID Connect code flow, from the start to an open session."""

    db: async_sessionmaker[AsyncSession]
    oidc: OidcClient
    hasher: NrnHasher
    sessions: Sessions
    profiles: Profiles
    request_ttl_s: int

    async def start(self, login_as: str, return_to: str) -> StartedLogin:
        """Record a login request and build the provider's authorization URL."""
        _checked_start(login_as, return_to)
        state, nonce, verifier = new_token(), new_token(), new_token() + new_token()
        now = utc_now()
        try:
            url = await self.oidc.authorization_url(
                state=state, nonce=nonce, code_challenge=pkce_challenge(verifier)
            )
        except OidcError as error:
            raise Problem(
                502, "identity_provider_unavailable", str(error), "Try again in a minute."
            ) from error
        async with self.db.begin() as session:
            await session.execute(
                sa.insert(login_requests).values(
                    state_hash=token_hash(state),
                    nonce=nonce,
                    code_verifier=verifier,
                    login_as=login_as,
                    return_to=return_to,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self.request_ttl_s),
                )
            )
        return StartedLogin(state, url)

    async def finish(
        self, *, state: str | None, cookie_state: str | None, code: str | None
    ) -> NewSession:
        """Check the provider's answer, then open a session (or say why not)."""
        if not state or not cookie_state or state != cookie_state:
            raise Problem(
                400,
                "state_mismatch",
                "This login answer does not belong to the login this browser started.",
                START_AGAIN,
            )
        if not code:
            raise Problem(400, "missing_code", "The provider's answer has no code.", START_AGAIN)
        now = utc_now()
        request = await self._claim_request(state, now)
        try:
            person = await self._person(request, code)
            return await self._open_session(request, person, now)
        except Problem as problem:
            # Where the login was to end: the portal shows a refusal as a page.
            problem.return_to = request.return_to
            raise

    async def _claim_request(self, state: str, now: datetime) -> Any:
        """The login request this state belongs to, marked used (it works once)."""
        async with self.db.begin() as session:
            claimed = await session.execute(
                sa.update(login_requests)
                .where(
                    login_requests.c.state_hash == token_hash(state),
                    login_requests.c.used_at.is_(None),
                    login_requests.c.expires_at > now,
                )
                .values(used_at=now)
            )
            if rowcount(claimed) != 1:
                raise Problem(
                    400,
                    "login_request_unknown",
                    "This login was already completed, has expired, or was never started.",
                    START_AGAIN,
                )
            return (
                await session.execute(
                    sa.select(login_requests).where(
                        login_requests.c.state_hash == token_hash(state)
                    )
                )
            ).one()

    async def _person(self, request: Any, code: str) -> Person:
        """The provider's answer checked, and the person it names."""
        try:
            claims = await self.oidc.login(code, request.code_verifier, request.nonce)
        except OidcError as error:
            log.warning(
                "login refused: provider answer failed a check", extra={"check": str(error)}
            )
            raise Problem(
                401, "identity_provider_answer_rejected", f"Login failed: {error}.", START_AGAIN
            ) from error
        try:
            nrn_hash = self.hasher.hash(str(claims.get("egovNRN", "")))
        except InvalidNationalNumber as error:
            raise Problem(
                401,
                "no_national_number",
                "The identity provider did not give a national register number.",
                "Log in with eID, itsme or another means that identifies you; " + START_AGAIN,
            ) from error
        return Person(
            nrn_hash=nrn_hash,
            given_name=str(claims.get("givenName") or claims.get("given_name") or ""),
            surname=str(claims.get("surname") or claims.get("family_name") or ""),
            language=_language(claims.get("PrefLanguage") or claims.get("locale")),
        )

    async def _open_session(self, request: Any, person: Person, now: datetime) -> NewSession:
        """The person checked for the login they asked for, the session opened."""
        async with self.db.begin() as session:
            professional: tuple[str | None, tuple[str, ...]] = (None, ())
            if request.login_as == "professional":
                professional = await self._professional(session, person.nrn_hash)
            user_id = await self._upsert_user(session, person, professional[0])
            new = await self.sessions.open(
                session,
                user_id=user_id,
                login_as=request.login_as,
                professional=professional,
                return_to=request.return_to,
                now=now,
            )
        log.info("login", extra={"user_id": user_id, "login_as": request.login_as})
        return new

    @staticmethod
    async def _professional(
        session: AsyncSession, nrn_hash: str
    ) -> tuple[str | None, tuple[str, ...]]:
        """The `professional_id` and the professions the register allows now; a Problem
        that says why (and offers the citizen login) when it allows none."""
        decision = decide(await facts_for(session, nrn_hash))
        if not decision.allowed:
            assert decision.refusal is not None
            log.info("professional login refused", extra={"check": decision.refusal})
            raise Problem(
                403,
                "not_eligible",
                decision.message,
                decision.what_to_do,
                extra={
                    "check": decision.refusal.value,
                    "citizen_login": "/api/identity/login?" + urlencode({"as": "citizen"}),
                },
            )
        return decision.professional_id, decision.professions

    async def _upsert_user(
        self, session: AsyncSession, person: Person, professional_id: str | None
    ) -> str:
        row = (
            await session.execute(sa.select(users).where(users.c.nrn_hash == person.nrn_hash))
        ).first()
        if row is None:
            user_id = str(uuid.uuid4())
            await session.execute(
                sa.insert(users).values(
                    user_id=user_id,
                    nrn_hash=person.nrn_hash,
                    given_name=person.given_name,
                    surname=person.surname,
                    language=person.language,
                    status=UserStatus.NEEDS_EMAIL,
                    team=False,
                    professional_id=professional_id,
                    created_at=utc_now(),
                )
            )
            return user_id
        # The provider's preferred language is current: mails and pages follow it.
        values: dict[str, Any] = {
            "given_name": person.given_name,
            "surname": person.surname,
            "language": person.language,
        }
        if professional_id is not None:
            values["professional_id"] = professional_id
        await session.execute(sa.update(users).where(users.c.user_id == row.user_id).values(values))
        if (row.given_name, row.surname, row.professional_id) != (
            person.given_name,
            person.surname,
            professional_id or row.professional_id,
        ):
            # The name others see changed: announce it (an active user only).
            await self.profiles.announce(session, str(row.user_id))
        return str(row.user_id)
