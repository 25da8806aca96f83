"""identity's rules without I/O: the keyed hash, eligibility, settings, the dev provider."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.events.registry import ProfessionRecord, RegistrationStatus
from identity.config import Settings
from identity.devidp import people as devidp_people
from identity.devidp.provider import development_provider_router
from identity.domain.eligibility import ProfessionalFacts, Refusal, decide
from identity.domain.nrn import InvalidNationalNumber, NrnHasher
from identity.entrypoints.app import build_component
from registry_sync.domain.pseudonyms import NrnHasher as RegistryNrnHasher
from servicekit.sealing import OpeningKey
from servicekit.settings import Environment, PlatformSettings
from skaart.up import DEMO_SEED

KEY = "a-shared-secret-of-some-length"


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_the_keyed_hash_equals_registry_syncs(nrn: str) -> None:
    assert NrnHasher(KEY).hash(nrn) == RegistryNrnHasher(KEY).hash(nrn)


def test_the_keyed_hash_takes_the_providers_spelling_and_refuses_non_numbers() -> None:
    assert NrnHasher(KEY).hash("85.07.31-001.23") == RegistryNrnHasher(KEY).hash("85073100123")
    with pytest.raises(InvalidNationalNumber) as raised:
        NrnHasher(KEY).hash("8507310012")
    assert "8507310012" not in str(raised.value)


def _profession(code: str, visa: str = "active", riziv: str | None = "active") -> ProfessionRecord:
    return ProfessionRecord(
        profession=code,
        visa_status=RegistrationStatus(visa),
        riziv_number="12345678003" if riziv else None,
        riziv_status=RegistrationStatus(riziv) if riziv else None,
    )


@pytest.mark.parametrize(
    ("facts", "refusal", "professions"),
    [
        (None, Refusal.UNKNOWN_TO_REGISTRY, ()),
        (
            ProfessionalFacts("p", (_profession("nurse"), _profession("midwife", "inactive"))),
            None,
            ("nurse",),
        ),
        (
            ProfessionalFacts("p", (_profession("psychologist", riziv=None),)),
            None,
            ("psychologist",),
        ),
        (ProfessionalFacts("p", (_profession("nurse", "inactive"),)), Refusal.NO_ACTIVE_VISA, ()),
        (
            ProfessionalFacts("p", (_profession("nurse", riziv="inactive"),)),
            Refusal.RIZIV_NUMBER_INACTIVE,
            (),
        ),
        (
            ProfessionalFacts("p", (_profession("nurse"),), practice_ban=True),
            Refusal.PRACTICE_BAN,
            (),
        ),
        (ProfessionalFacts("p", (_profession("nurse"),), deceased=True), Refusal.DECEASED, ()),
        (
            ProfessionalFacts("p", (_profession("nurse"),), removed=True),
            Refusal.REMOVED_FROM_REGISTRY,
            (),
        ),
    ],
)
def test_eligibility_needs_a_profession_that_may_be_practised(
    facts: ProfessionalFacts | None, refusal: Refusal | None, professions: tuple[str, ...]
) -> None:
    decision = decide(facts)
    assert decision.refusal == refusal
    assert decision.professions == professions
    if refusal is not None:
        assert decision.message and "citizen" in decision.what_to_do


def test_the_demo_people_are_monolithic_modes_demo_professionals() -> None:
    from registry_sync.simulator.demo_data import generate_professionals

    assert devidp_people.DEMO_SEED == DEMO_SEED
    people = devidp_people.demo_people()
    ssins = {record["ssin"] for record in generate_professionals(300, DEMO_SEED)}
    professionals = [p for p in people if p.key != "citizen"]
    assert len(professionals) >= 5
    assert all(p.nrn in ssins for p in professionals)
    citizen = next(p for p in people if p.key == "citizen")
    assert citizen.nrn not in ssins
    assert len({p.key for p in people}) == len(people)


def test_the_development_provider_refuses_to_run_outside_development() -> None:
    production = PlatformSettings(environment=Environment.PRODUCTION)
    with pytest.raises(RuntimeError, match="development"):
        development_provider_router(
            production, issuer="x", client_id="c", client_secret="s", redirect_uris=["r"]
        )


def test_production_refuses_development_secrets_and_mounts_no_development_provider(
    tmp_path: object,
) -> None:
    production = PlatformSettings(environment=Environment.PRODUCTION)
    with pytest.raises(RuntimeError, match="IDENTITY_NRN_HMAC_KEY"):
        build_component(production, settings=Settings(database_url="sqlite+aiosqlite://"))
    settings = Settings(
        database_url="sqlite+aiosqlite://",
        public_base_url="https://socialekaart.example",
        oidc_issuer="https://idp.iamfas.belgium.be/fas/oauth2",
        oidc_client_secret="s" * 32,
        nrn_hmac_key="k" * 32,
        signing_key_secret="z" * 32,
        email_lookup_key="e" * 32,
        redis_url="redis://127.0.0.1:6379/0",
        mail_public_key=OpeningKey.generate().sealing_key.text(),
    )
    component = build_component(production, settings=settings)
    paths = {route.path for router in component.api_routers() for route in router.routes}  # type: ignore[attr-defined]
    assert "/api/identity/login" in paths
    assert not any(path.startswith("/dev/") for path in paths)
    assert settings.cookie_secure(production)
    with pytest.raises(RuntimeError, match="SECURE"):
        build_component(
            production, settings=settings.model_copy(update={"session_cookie_secure": False})
        )


async def test_without_redis_development_falls_back_to_the_in_process_store() -> None:
    from identity.adapters.kv import RedisOrMemoryStore
    from servicekit.rate_limits import Allowance
    from servicekit.redis_client import redis_client

    store = RedisOrMemoryStore(redis_client("redis://127.0.0.1:1/0"), "test:")
    twice = Allowance("k", limit=2, window_s=60)
    assert await store.consume([twice], 1) is None
    assert await store.consume([twice], 1) is None
    refused = await store.consume([twice], 1)
    assert refused is not None and 0 < refused.retry_after_s <= 60
    await store.revoke_session("sid", 60)
    assert await store.is_session_revoked("sid")
    assert not await store.is_session_revoked("other")
    await store.close()


async def test_an_activation_mail_refused_for_its_address_uses_none_of_the_sessions() -> None:
    from identity.adapters.kv import MemoryStore
    from identity.handlers.problems import Problem
    from identity.handlers.rate_limits import RateLimits

    settings = Settings(email_requests_per_address=1, email_requests_per_session=3)
    limits = RateLimits(MemoryStore(), settings)
    await limits.activation_mail("a@example.be", "session-1")
    with pytest.raises(Problem) as refused:
        await limits.activation_mail("A@example.be", "session-1")
    assert refused.value.status == 429
    assert refused.value.retry_after is not None and 0 < refused.value.retry_after <= 3600
    # The refused mail did not count: the session still has two of its three.
    await limits.activation_mail("b@example.be", "session-1")
    await limits.activation_mail("c@example.be", "session-1")
    with pytest.raises(Problem):
        await limits.activation_mail("d@example.be", "session-1")
