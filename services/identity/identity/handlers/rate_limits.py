"""How often a login or an activation mail may be asked for (fixed windows in the store).

Logins count per client address: nobody is known yet at a login. Activation mails count
per login session and per address, never per client address (people behind one proxy or
NAT must not share a limit).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from identity.adapters.kv import KeyValueStore
from identity.config import Settings
from identity.handlers.problems import Problem


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass
class RateLimits:
    """The limits of identity's settings, counted in the session store."""

    store: KeyValueStore
    settings: Settings

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

    async def login(self, ip: str) -> None:
        """One login step (start or callback) from the client address `ip`."""
        await self._limit(f"login:ip:{ip}", self.settings.login_attempts_per_ip, "login")

    async def activation_mail(self, email: str, session_id: str) -> None:
        """One activation mail to `email`, asked for in the login session `session_id`."""
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
