"""Access tokens are verified locally: signature, issuer, audience, expiry, key, revocation."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from contracts.events.identity import Role
from servicekit.auth import (
    LOGGED_OUT_MARK,
    AccessTokenVerifier,
    AuthenticationError,
    RevocationCheckUnavailable,
    SessionEnded,
    add_signing_keys_table,
    redis_client,
    redis_revocation_check,
)
from servicekit.database import create_engine, session_factory
from servicekit.embedded_broker import free_loopback_port
from tests.support.auth import TokenSigner


def verifier_trusting(
    *signers: TokenSigner, revoked: set[str] | None = None
) -> AccessTokenVerifier:
    jwks = json.dumps({"keys": [signer.public_jwk() for signer in signers]})

    async def is_revoked(session_id: str) -> bool:
        return session_id in (revoked or set())

    return AccessTokenVerifier(sessions=None, table=None, static_jwks=jwks, is_revoked=is_revoked)


async def test_a_valid_token_names_the_caller_and_roles() -> None:
    signer = TokenSigner()
    token = signer.token(
        "user-1", roles=[Role.PROFESSIONAL], professional_id="p-1", professions=["physician"]
    )
    caller = await verifier_trusting(signer).verify(token)
    assert caller.user_id == "user-1"
    assert caller.is_professional and not caller.is_team
    assert caller.professions == ("physician",)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"lifetime": timedelta(minutes=-5)}, "expired"),
    ],
)
async def test_wrong_audience_issuer_or_expired_tokens_are_refused(
    overrides: dict[str, object], reason: str
) -> None:
    signer = TokenSigner()
    token = signer.token("user-1", **overrides)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError, match=f"(?i){reason}"):
        await verifier_trusting(signer).verify(token)


async def test_a_token_signed_by_an_untrusted_key_with_a_trusted_kid_is_refused() -> None:
    trusted = TokenSigner(kid="k1")
    forger = TokenSigner(kid="k1")
    with pytest.raises(AuthenticationError, match="not valid"):
        await verifier_trusting(trusted).verify(forger.token("user-1"))


async def test_an_unknown_key_is_refused() -> None:
    with pytest.raises(AuthenticationError, match="unknown key"):
        await verifier_trusting(TokenSigner()).verify(TokenSigner().token("user-1"))


async def test_a_revoked_session_is_refused() -> None:
    signer = TokenSigner()
    token = signer.token("user-1", sid="session-9")
    with pytest.raises(AuthenticationError, match="logged out"):
        await verifier_trusting(signer, revoked={"session-9"}).verify(token)


async def test_two_keys_are_trusted_at_once_during_a_rotation() -> None:
    old, new = TokenSigner(), TokenSigner()
    verifier = verifier_trusting(old, new)
    assert (await verifier.verify(old.token("a"))).user_id == "a"
    assert (await verifier.verify(new.token("b"))).user_id == "b"


async def test_an_unreachable_session_store_fails_closed_outside_development() -> None:
    async with redis_client(f"redis://127.0.0.1:{free_loopback_port()}/0") as nowhere:
        with pytest.raises(RevocationCheckUnavailable):
            await redis_revocation_check(nowhere)("session-1")
        assert await redis_revocation_check(nowhere, development=True)("session-1") is None


async def test_a_retirement_announced_later_takes_effect_without_a_new_key(
    tmp_path: Path,
) -> None:
    """A replica learns a key's retirement from its table within `refresh_s`, even when
    it never sees a token signed by the next key."""
    metadata = sa.MetaData()
    table = add_signing_keys_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = session_factory(engine)
    signer = TokenSigner()
    async with sessions.begin() as session:
        await session.execute(
            sa.insert(table).values(
                kid=signer.kid,
                algorithm="ES256",
                public_jwk=signer.public_jwk(),
                not_before=datetime.now(UTC) - timedelta(days=1),
                retire_after=None,
            )
        )
    verifier = AccessTokenVerifier(sessions=sessions, table=table, refresh_s=0.5)
    assert (await verifier.verify(signer.token("user-1"))).user_id == "user-1"

    async with sessions.begin() as session:
        await session.execute(
            sa.update(table).values(retire_after=datetime.now(UTC) - timedelta(seconds=1))
        )
    await asyncio.sleep(1.1)  # past refresh_s and the verifier's reload throttle

    with pytest.raises(AuthenticationError, match="retired key"):
        await verifier.verify(signer.token("user-1"))
    await engine.dispose()


async def test_a_validly_signed_long_lived_token_is_refused() -> None:
    """A token signed with a trusted key for ten years (a leaked key, a forged claim set)
    is refused: the verifier enforces the maximum lifetime, not only the signature."""
    signer = TokenSigner()
    ten_years = signer.token("user-1", lifetime=timedelta(days=3650))
    with pytest.raises(AuthenticationError, match="lives longer than the 3600 s allowed"):
        await verifier_trusting(signer).verify(ten_years)
    # The longest lifetime identity may be configured with still passes.
    one_hour = signer.token("user-1", lifetime=timedelta(seconds=3600))
    assert (await verifier_trusting(signer).verify(one_hour)).user_id == "user-1"


async def test_a_token_issued_in_the_future_is_refused() -> None:
    """An `iat` in the future would stretch a lifetime check; it is refused outright."""
    signer = TokenSigner()
    later = datetime.now(UTC) + timedelta(days=365)
    token = signer.token("user-1", iat=later, exp=later + timedelta(minutes=5))
    with pytest.raises(AuthenticationError, match=r"(?i)not yet valid|issued in the future"):
        await verifier_trusting(signer).verify(token)


async def test_the_reason_a_session_was_ended_reaches_the_caller() -> None:
    signer = TokenSigner()
    ended = SessionEnded("practice_ban", "The register reports a practice ban.")

    async def is_revoked(session_id: str) -> SessionEnded | None:
        return ended if session_id == "session-9" else None

    jwks = json.dumps({"keys": [signer.public_jwk()]})
    verifier = AccessTokenVerifier(
        sessions=None, table=None, static_jwks=jwks, is_revoked=is_revoked
    )
    with pytest.raises(AuthenticationError, match="practice ban"):
        await verifier.verify(signer.token("user-1", sid="session-9"))
    assert (await verifier.verify(signer.token("user-1", sid="other"))).user_id == "user-1"


def test_a_revoked_session_mark_reads_back_as_its_reason() -> None:
    ended = SessionEnded("deceased", "Listed as deceased.")
    assert SessionEnded.from_mark(ended.mark()) == ended
    assert SessionEnded.from_mark(LOGGED_OUT_MARK) == SessionEnded(
        "logged_out", "the session of this access token was logged out"
    )
    assert SessionEnded.from_mark(None) is None
