"""identity's use cases, as the composition root wires them (`entrypoints/app.py`).

The HTTP routes, the Kafka subscriptions, the background loops and the operator commands
each reach the use case they need here; none builds one itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from identity.adapters.kv import KeyValueStore
from identity.adapters.oidc import OidcClient
from identity.adapters.signing_keys import SigningKeys
from identity.handlers.activation import Activation
from identity.handlers.login import Login
from identity.handlers.profiles import Profiles
from identity.handlers.rate_limits import RateLimits
from identity.handlers.roles import TeamRole
from identity.handlers.session_rights import SessionRights
from identity.handlers.sessions import Sessions
from identity.handlers.tokens import AccessTokens


@dataclass
class IdentityUseCases:
    """Every use case of identity, over one database, one outbox and one session store."""

    login: Login
    activation: Activation
    sessions: Sessions
    tokens: AccessTokens
    team: TeamRole
    limits: RateLimits
    profiles: Profiles
    #: Ends professional sessions the register no longer backs.
    rights: SessionRights
    keys: SigningKeys
    #: Sessions' revocations, rate limits and hand-over codes (Redis, or in-process).
    store: KeyValueStore
    oidc: OidcClient
