"""How often a login or an activation mail may be asked for (`servicekit.rate_limits`'
fixed windows, counted in the session store).

Logins count per client address: nobody is known yet at a login. Activation mails count
per login session and per address, never per client address (people behind one proxy or
NAT must not share a limit); a mail refused by one of the two uses neither.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from identity.config import Settings
from identity.handlers.problems import Problem
from servicekit.rate_limits import Allowance, RateLimiter


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass
class RateLimits:
    """The limits of identity's settings, counted by `limiter` (the session store)."""

    limiter: RateLimiter
    settings: Settings

    async def _limit(self, what: str, *limits: tuple[str, int]) -> None:
        window_s = self.settings.rate_limit_window_s
        allowances = [Allowance(key, limit, window_s) for key, limit in limits]
        exceeded = await self.limiter.consume(allowances, 1)
        if exceeded is not None:
            raise Problem(
                429,
                "rate_limited",
                f"Too many {what} attempts.",
                f"Wait {exceeded.retry_after_s} seconds and try again.",
                retry_after=exceeded.retry_after_s,
            )

    async def login(self, ip: str) -> None:
        """One login step (start or callback) from the client address `ip`."""
        await self._limit("login", (f"login:ip:{ip}", self.settings.login_attempts_per_ip))

    async def activation_mail(self, email: str, session_id: str) -> None:
        """One activation mail to `email`, asked for in the login session `session_id`."""
        await self._limit(
            "activation e-mail",
            (f"email:session:{session_id}", self.settings.email_requests_per_session),
            (f"email:address:{_digest(email.lower())}", self.settings.email_requests_per_address),
        )
