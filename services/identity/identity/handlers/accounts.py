"""identity's use cases: login, first-login e-mail and activation, sessions and tokens.

Every refusal is a `Problem` that says what failed and what to do next; the HTTP layer
turns it into a 4xx. Nothing here logs or returns a national register number, and an
e-mail address is only ever shown to its own user.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.events.identity import ActivationMailRequested, ProfileActivated, Role
from identity.adapters.kv import KeyValueStore
from identity.adapters.oidc import OidcClient, OidcError
from identity.adapters.signing_keys import NoSigningKey, SigningKeys
from identity.adapters.tables import (
    email_verifications,
    login_requests,
    sessions,
    users,
)
from identity.config import ACTIVATION_LINK_PATH, HANDOFF_TTL_S, Settings
from identity.domain.eligibility import decide
from identity.domain.nrn import InvalidNationalNumber, NrnHasher
from identity.domain.secrets import new_token, pkce_challenge, token_hash
from identity.handlers.profiles import Profiles
from identity.handlers.registry_events import facts_for
from identity.handlers.session_rights import REVOCATION_MARGIN_S, SessionRights
from servicekit.auth import ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, SessionEnded
from servicekit.database import as_utc
from servicekit.messaging.outbox import Outbox
from servicekit.sealing import purpose

log = logging.getLogger(__name__)

LOGIN_AS = ("professional", "citizen")
LANGUAGES = ("nl", "fr", "en")


class UserStatus:
    """Where a user stands in the first-login steps."""

    NEEDS_EMAIL = "needs_email"
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"


@dataclass
class Problem(Exception):
    """A refusal with its HTTP status, a stable code, and what the person can do."""

    status: int
    code: str
    message: str
    what_to_do: str = ""
    field_name: str | None = None
    field_location: str = "body"
    retry_after: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The `return_to` of the login this refusal ends (never part of the answer's body).
    return_to: str | None = None

    def detail(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.what_to_do:
            body["what_to_do"] = self.what_to_do
        if self.field_name:
            body["field"] = self.field_name
        return {**body, **self.extra}


def _rowcount(result: Any) -> int:
    """Rows an UPDATE changed (a CursorResult's, which the Result type does not show)."""
    return int(result.rowcount)


def _now() -> datetime:
    return datetime.now(UTC)


def _language(value: Any) -> str:
    code = str(value or "").strip().lower()[:2]
    return code if code in LANGUAGES else "nl"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class StartedLogin:
    """Where to send the browser, and the state its login cookie must carry back."""

    state: str
    authorization_url: str


@dataclass(frozen=True)
class NewSession:
    """A session after a successful login."""

    token: str
    session_id: str
    user_id: str
    return_to: str


@dataclass
class Accounts:
    """identity's use cases, over its database, its outbox, Redis and the OpenID provider."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    store: KeyValueStore
    oidc: OidcClient
    keys: SigningKeys
    hasher: NrnHasher

    @property
    def profiles(self) -> Profiles:
        """Announces activated users' names (and address hashes) to fiches."""
        return Profiles(self.outbox, self.settings.email_lookup_key.get_secret_value())

    @property
    def rights(self) -> SessionRights:
        """Ends professional sessions the register no longer backs."""
        return SessionRights(self.store, self.settings.access_token_ttl_s)

    # --- rate limits ----------------------------------------------------------------------

    async def _limit(self, key: str, limit: int, what: str) -> None:
        count, retry_after = await self.store.hit(key, self.settings.rate_limit_window_s)
        if count > limit:
            raise Problem(
                429,
                "rate_limited",
                f"Too many {what} attempts.",
                f"Wait {retry_after} seconds and try again.",
                retry_after=retry_after,
            )

    async def limit_login(self, ip: str) -> None:
        """Login attempts per client address: nobody is known yet at a login."""
        await self._limit(f"login:ip:{ip}", self.settings.login_attempts_per_ip, "login")

    async def _limit_email(self, email: str, session_id: str) -> None:
        """Activation mails per person: per login session and per address, never per
        client address (people behind one proxy or NAT must not share a limit)."""
        await self._limit(
            f"email:session:{session_id}",
            self.settings.email_requests_per_session,
            "activation e-mail",
        )
        await self._limit(
            f"email:address:{_digest(email.lower())}",
            self.settings.email_requests_per_address,
            "activation e-mail",
        )

    # --- login ----------------------------------------------------------------------------

    async def start_login(self, login_as: str, return_to: str) -> StartedLogin:
        """Record a login request and build the provider's authorization URL."""
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
        state, nonce, verifier = new_token(), new_token(), new_token() + new_token()
        now = _now()
        try:
            url = await self.oidc.authorization_url(
                state=state, nonce=nonce, code_challenge=pkce_challenge(verifier)
            )
        except OidcError as error:
            raise Problem(
                502, "identity_provider_unavailable", str(error), "Try again in a minute."
            ) from error
        async with self.sessions.begin() as session:
            await session.execute(
                sa.insert(login_requests).values(
                    state_hash=token_hash(state),
                    nonce=nonce,
                    code_verifier=verifier,
                    login_as=login_as,
                    return_to=return_to,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self.settings.login_request_ttl_s),
                )
            )
        return StartedLogin(state, url)

    async def finish_login(
        self, *, state: str | None, cookie_state: str | None, code: str | None
    ) -> NewSession:
        """Check the provider's answer, then open a session (or say why not)."""
        again = "Start again at /api/identity/login."
        if not state or not cookie_state or state != cookie_state:
            raise Problem(
                400,
                "state_mismatch",
                "This login answer does not belong to the login this browser started.",
                again,
            )
        if not code:
            raise Problem(400, "missing_code", "The provider's answer has no code.", again)
        now = _now()
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                sa.update(login_requests)
                .where(
                    login_requests.c.state_hash == token_hash(state),
                    login_requests.c.used_at.is_(None),
                    login_requests.c.expires_at > now,
                )
                .values(used_at=now)
            )
            if _rowcount(claimed) != 1:
                raise Problem(
                    400,
                    "login_request_unknown",
                    "This login was already completed, has expired, or was never started.",
                    again,
                )
            request = (
                await session.execute(
                    sa.select(login_requests).where(
                        login_requests.c.state_hash == token_hash(state)
                    )
                )
            ).one()
        try:
            return await self._open_session(request, code, now)
        except Problem as problem:
            # Where the login was to end: the portal shows a refusal as a page.
            problem.return_to = request.return_to
            raise

    async def _open_session(self, request: Any, code: str, now: datetime) -> NewSession:
        """The provider's answer checked, the person checked, the session opened."""
        again = "Start again at /api/identity/login."
        try:
            claims = await self.oidc.login(code, request.code_verifier, request.nonce)
        except OidcError as error:
            log.warning(
                "login refused: provider answer failed a check", extra={"check": str(error)}
            )
            raise Problem(
                401, "identity_provider_answer_rejected", f"Login failed: {error}.", again
            ) from error
        try:
            nrn_hash = self.hasher.hash(str(claims.get("egovNRN", "")))
        except InvalidNationalNumber as error:
            raise Problem(
                401,
                "no_national_number",
                "The identity provider did not give a national register number.",
                "Log in with eID, itsme or another means that identifies you; " + again,
            ) from error
        given = str(claims.get("givenName") or claims.get("given_name") or "")
        surname = str(claims.get("surname") or claims.get("family_name") or "")
        language = _language(claims.get("PrefLanguage") or claims.get("locale"))
        async with self.sessions.begin() as session:
            professional_id: str | None = None
            professions: tuple[str, ...] = ()
            if request.login_as == "professional":
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
                professional_id, professions = decision.professional_id, decision.professions
            user_id = await self._upsert_user(
                session, nrn_hash, given, surname, language, professional_id
            )
            token, session_id = new_token(), str(uuid.uuid4())
            await session.execute(
                sa.insert(sessions).values(
                    session_id=session_id,
                    token_hash=token_hash(token),
                    user_id=user_id,
                    login_as=request.login_as,
                    professional_id=professional_id,
                    professions=list(professions),
                    created_at=now,
                    expires_at=now + timedelta(hours=self.settings.session_ttl_hours),
                )
            )
        log.info("login", extra={"user_id": user_id, "login_as": request.login_as})
        return NewSession(token, session_id, user_id, request.return_to)

    async def _upsert_user(
        self,
        session: AsyncSession,
        nrn_hash: str,
        given: str,
        surname: str,
        language: str,
        professional_id: str | None,
    ) -> str:
        row = (await session.execute(sa.select(users).where(users.c.nrn_hash == nrn_hash))).first()
        if row is None:
            user_id = str(uuid.uuid4())
            await session.execute(
                sa.insert(users).values(
                    user_id=user_id,
                    nrn_hash=nrn_hash,
                    given_name=given,
                    surname=surname,
                    language=language,
                    status=UserStatus.NEEDS_EMAIL,
                    team=False,
                    professional_id=professional_id,
                    created_at=_now(),
                )
            )
            return user_id
        # The provider's preferred language is current: mails and pages follow it.
        values: dict[str, Any] = {"given_name": given, "surname": surname, "language": language}
        if professional_id is not None:
            values["professional_id"] = professional_id
        await session.execute(sa.update(users).where(users.c.user_id == row.user_id).values(values))
        if (row.given_name, row.surname, row.professional_id) != (
            given,
            surname,
            professional_id or row.professional_id,
        ):
            # The name others see changed: announce it (an active user only).
            await self.profiles.announce(session, str(row.user_id))
        return str(row.user_id)

    # --- the portal's server-side hand-over ------------------------------------------------

    async def hand_over(self, new: NewSession) -> str:
        """A one-time code the portal exchanges, server-side, for this session."""
        code = new_token()
        await self.store.put("handoff:" + token_hash(code), new.session_id, HANDOFF_TTL_S)
        return code

    async def take_hand_over(self, code: str) -> dict[str, Any]:
        """The session behind a hand-over code, under a fresh token (the code works once)."""
        session_id = await self.store.take("handoff:" + token_hash(code)) if code else None
        if session_id is None:
            raise Problem(
                400,
                "handoff_invalid",
                "This login hand-over code is unknown, used or expired.",
                "Log in again.",
            )
        token = new_token()
        async with self.sessions.begin() as session:
            row = (
                await session.execute(
                    sa.update(sessions)
                    .where(sessions.c.session_id == session_id, sessions.c.revoked_at.is_(None))
                    .values(token_hash=token_hash(token))
                    .returning(sessions.c.expires_at)
                )
            ).first()
        if row is None:
            raise Problem(401, "session_ended", "The session has ended.", "Log in again.")
        return {"session": token, "expires_at": as_utc(row.expires_at).isoformat()}

    # --- sessions -------------------------------------------------------------------------

    async def _session(self, session: AsyncSession, token: str | None) -> Any:
        if not token:
            raise Problem(
                401, "not_logged_in", "You are not logged in.", "Log in at /api/identity/login."
            )
        row = (
            await session.execute(
                sa.select(sessions, users)
                .join(users, users.c.user_id == sessions.c.user_id)
                .where(sessions.c.token_hash == token_hash(token))
            )
        ).first()
        if row is not None and row.revoked_at is not None:
            ended = await self.store.session_ended(row.session_id)
            if ended is not None and ended.code != "logged_out":
                raise self._rights_ended(ended)
        if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= _now():
            raise Problem(
                401,
                "session_ended",
                "Your session has ended (logged out or expired).",
                "Log in again at /api/identity/login.",
            )
        return row

    @staticmethod
    def _rights_ended(ended: SessionEnded) -> Problem:
        return Problem(
            401,
            "professional_rights_ended",
            ended.message[:1].upper() + ended.message[1:] + ".",
            "Log in again: as a professional if the register still allows you to practise "
            "(/api/identity/login?as=professional), otherwise as a citizen "
            "(/api/identity/login?as=citizen).",
            extra={"check": ended.code},
        )

    async def _live_session(self, token: str | None) -> Any:
        """The session, after checking that the register still backs a professional one.

        A session the register no longer backs is ended here (and everywhere its tokens
        are verified) before the refusal says why.
        """
        async with self.sessions.begin() as db:
            row = await self._session(db, token)
            ended: dict[str, SessionEnded] = {}
            if row.login_as == "professional" and row.professional_id:
                ended = await self.rights.review(db, [row.professional_id])
        # Raised after the commit: the session stays ended.
        if row.session_id in ended:
            raise self._rights_ended(ended[row.session_id])
        return row

    def _roles(self, row: Any) -> list[Role]:
        roles = [Role.PROFESSIONAL if row.login_as == "professional" else Role.CITIZEN]
        if row.team:
            roles.append(Role.TEAM)
        return roles

    async def me(self, token: str | None) -> dict[str, Any]:
        """The logged-in user's own profile (their own address included)."""
        row = await self._live_session(token)
        next_step = {
            UserStatus.NEEDS_EMAIL: "Give your e-mail address: PUT /api/identity/me/email.",
            UserStatus.PENDING_ACTIVATION: "Follow the activation link we e-mailed you "
            "(or ask for a new one: POST /api/identity/me/email/resend).",
            UserStatus.ACTIVE: "Get an access token: POST /api/identity/token.",
        }[row.status]
        return {
            "user_id": row.user_id,
            "status": row.status,
            "next_step": next_step,
            "given_name": row.given_name,
            "surname": row.surname,
            "language": row.language,
            "email": row.email,
            "roles": [str(role) for role in self._roles(row)],
            "professional_id": row.professional_id if row.login_as == "professional" else None,
            "professions": list(row.professions),
        }

    async def access_token(self, token: str | None) -> dict[str, Any]:
        """A short-lived signed access token for the session's user (active users only)."""
        row = await self._live_session(token)
        async with self.sessions() as session:
            if row.status != UserStatus.ACTIVE:
                raise Problem(
                    403,
                    "profile_not_active",
                    "Your profile is not active yet: the e-mail address is not verified.",
                    "Give your address (PUT /api/identity/me/email) and follow the "
                    "activation link we e-mail you.",
                )
            try:
                key = await self.keys.current(session)
            except NoSigningKey as error:
                raise Problem(
                    503, "no_signing_key", str(error), "Try again shortly.", retry_after=2
                ) from error
        now = _now()
        ttl = self.settings.access_token_ttl_s
        claims: dict[str, Any] = {
            "iss": ACCESS_TOKEN_ISSUER,
            "aud": ACCESS_TOKEN_AUDIENCE,
            "sub": row.user_id,
            "sid": row.session_id,
            "iat": now,
            "exp": now + timedelta(seconds=ttl),
            "roles": [str(role) for role in self._roles(row)],
            "professions": list(row.professions),
            "lang": row.language,
            "name": f"{row.given_name} {row.surname}".strip(),
        }
        if row.login_as == "professional" and row.professional_id:
            claims["professional_id"] = row.professional_id
        signed = jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid})
        return {"access_token": signed, "token_type": "Bearer", "expires_in": ttl}

    async def logout(self, token: str | None) -> None:
        """End the session; its access tokens are refused from now on."""
        if not token:
            return
        async with self.sessions.begin() as session:
            row = (
                await session.execute(
                    sa.select(sessions.c.session_id, sessions.c.revoked_at).where(
                        sessions.c.token_hash == token_hash(token)
                    )
                )
            ).first()
            if row is None:
                return
            await session.execute(
                sa.update(sessions)
                .where(sessions.c.session_id == row.session_id)
                .values(revoked_at=_now())
            )
        await self.store.revoke_session(
            row.session_id, self.settings.access_token_ttl_s + REVOCATION_MARGIN_S
        )
        log.info("logout", extra={"session_id": row.session_id})

    # --- e-mail and activation ------------------------------------------------------------

    async def set_email(self, token: str | None, email: str) -> dict[str, Any]:
        """Record the user's address (once) and mail an activation link."""
        try:
            address = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise Problem(
                422,
                "invalid_email",
                f"This is not a usable e-mail address: {error}",
                "Correct the address and send it again.",
                field_name="email",
            ) from error
        async with self.sessions() as session:
            row = await self._session(session, token)
        if row.status == UserStatus.ACTIVE and row.email == address:
            raise Problem(
                409,
                "email_already_verified",
                "This e-mail address is already your verified address.",
                "Nothing to do: your profile is active with it.",
            )
        # An active user changing their address stays active with the old one until the
        # new one is activated from its own link.
        await self._limit_email(address, row.session_id)
        return await self._send_link(row.user_id, address)

    async def resend(self, token: str | None) -> dict[str, Any]:
        """A new activation link to the address given (the older links stop working)."""
        async with self.sessions() as session:
            row = await self._session(session, token)
        if row.status != UserStatus.PENDING_ACTIVATION or not row.email:
            raise Problem(
                409,
                "nothing_to_resend",
                "There is no activation pending for your profile.",
                "Give your address first (PUT /api/identity/me/email)."
                if row.status == UserStatus.NEEDS_EMAIL
                else "Nothing to do: your profile is active.",
            )
        await self._limit_email(row.email, row.session_id)
        return await self._send_link(row.user_id, row.email)

    async def _send_link(self, user_id: str, address: str) -> dict[str, Any]:
        token, verification_id, now = new_token(), str(uuid.uuid4()), _now()
        expires_at = now + timedelta(hours=self.settings.activation_link_ttl_hours)
        # The portal's page (people open pages, not APIs); it learns the user's language
        # from the activation's answer, as the mail may be opened logged out.
        url = (
            self.settings.public_base_url.rstrip("/")
            + ACTIVATION_LINK_PATH
            + "?"
            + urlencode({"token": token})
        )
        # Sealed for notifications: the outbox row, the topic record and notifications'
        # delivery row hold neither the address nor the link in clear.
        mail_key = self.settings.mail_sealing_key()
        async with self.sessions.begin() as session:
            user = (await session.execute(sa.select(users).where(users.c.user_id == user_id))).one()
            await session.execute(
                sa.update(email_verifications)
                .where(
                    email_verifications.c.user_id == user_id,
                    email_verifications.c.used_at.is_(None),
                    email_verifications.c.superseded_at.is_(None),
                )
                .values(superseded_at=now)
            )
            await session.execute(
                sa.insert(email_verifications).values(
                    verification_id=verification_id,
                    user_id=user_id,
                    email=address,
                    token_hash=token_hash(token),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            if user.status != UserStatus.ACTIVE:
                await session.execute(
                    sa.update(users)
                    .where(users.c.user_id == user_id)
                    .values(email=address, status=UserStatus.PENDING_ACTIVATION)
                )
            await self.outbox.add(
                session,
                ActivationMailRequested(
                    verification_id=verification_id,
                    user_id=user_id,
                    sealed_email=mail_key.seal(address, purpose("email", user_id)),
                    language=user.language,
                    display_name=user.given_name,
                    sealed_activation_url=mail_key.seal(
                        url, purpose("activation_url", verification_id)
                    ),
                    expires_at=expires_at,
                    occurred_at=now,
                ),
            )
        self.outbox.notify_committed()
        log.info("activation link issued", extra={"user_id": user_id})
        return {"status": UserStatus.PENDING_ACTIVATION, "email": address, "expires_at": expires_at}

    async def activation_language(self, token: str) -> str | None:
        """The language of the user an activation link is for (the link is not used)."""
        async with self.sessions() as session:
            language = await session.scalar(
                sa.select(users.c.language)
                .join(email_verifications, email_verifications.c.user_id == users.c.user_id)
                .where(email_verifications.c.token_hash == token_hash(token))
            )
        return str(language) if language else None

    async def activate(self, token: str) -> dict[str, Any]:
        """Use an activation link: exactly once, before it expires."""
        digest, now = token_hash(token), _now()
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                sa.update(email_verifications)
                .where(
                    email_verifications.c.token_hash == digest,
                    email_verifications.c.used_at.is_(None),
                    email_verifications.c.superseded_at.is_(None),
                    email_verifications.c.expires_at > now,
                )
                .values(used_at=now)
            )
            verification = (
                await session.execute(
                    sa.select(email_verifications).where(email_verifications.c.token_hash == digest)
                )
            ).first()
            if _rowcount(claimed) != 1 or verification is None:
                raise self._activation_problem(verification)
            user = (
                await session.execute(
                    sa.select(users).where(users.c.user_id == verification.user_id)
                )
            ).one()
            await session.execute(
                sa.update(users)
                .where(users.c.user_id == user.user_id)
                .values(email=verification.email, status=UserStatus.ACTIVE, activated_at=now)
            )
            roles = [Role.CITIZEN]
            if user.professional_id:
                roles.append(Role.PROFESSIONAL)
            if user.team:
                roles.append(Role.TEAM)
            await self.outbox.add(
                session,
                ProfileActivated(
                    user_id=user.user_id,
                    sealed_email=self.settings.mail_sealing_key().seal(
                        verification.email, purpose("email", user.user_id)
                    ),
                    language=user.language,
                    display_name=user.given_name,
                    roles=tuple(roles),
                    professional_id=user.professional_id,
                    occurred_at=now,
                ),
            )
            await self.profiles.announce(session, user.user_id)
        self.outbox.notify_committed()
        log.info("profile activated", extra={"user_id": user.user_id})
        return {"status": UserStatus.ACTIVE, "user_id": user.user_id, "language": user.language}

    @staticmethod
    def _activation_problem(verification: Any) -> Problem:
        new_link = (
            "Log in and ask for a new link (POST /api/identity/me/email/resend), "
            "or use the newest link we sent."
        )
        if verification is None:
            return Problem(
                400,
                "activation_link_invalid",
                "This activation link is not valid (it may be incomplete).",
                "Copy the whole link from the e-mail. " + new_link,
                field_name="token",
            )
        if verification.used_at is not None:
            return Problem(
                410,
                "activation_link_used",
                "This activation link was already used.",
                "If your profile is active, just log in. Otherwise: " + new_link,
            )
        if verification.superseded_at is not None:
            return Problem(
                410,
                "activation_link_replaced",
                "A newer activation link was sent; this one no longer works.",
                new_link,
            )
        return Problem(
            410, "activation_link_expired", "This activation link has expired.", new_link
        )

    # --- operators ------------------------------------------------------------------------

    async def set_team(self, user_id: str, team: bool) -> bool:
        """Grant or withdraw the team role; False when no such user."""
        async with self.sessions.begin() as session:
            result = await session.execute(
                sa.update(users).where(users.c.user_id == user_id).values(team=team)
            )
        return _rowcount(result) > 0
