"""Whether the OpenID provider answers: checked at start, reported by readiness.

Every login starts at the provider's discovery document. When it does not answer (an
issuer on the wrong port, the provider down), logins fail with 502; readiness says so,
with the reason, instead of reporting a platform that cannot log anyone in as ready.
"""

from __future__ import annotations

import asyncio
import logging
import time

from identity.adapters.oidc import OidcClient, OidcError

log = logging.getLogger(__name__)

#: A discovery that answered is trusted this long before readiness asks again.
RECHECK_AFTER_S = 60.0
#: Readiness gives each check 2 s; the discovery request gets less, to report its reason.
CHECK_TIMEOUT_S = 1.5
#: Failures this soon after start are not reported (monolithic mode's own provider).
QUIET_AT_START_S = 30.0
#: While it keeps failing, the error is logged again this often.
REPORT_EVERY_S = 60.0


class ProviderCheck:
    """The provider's discovery, checked now and then; `readiness()` says `ok` or why not."""

    def __init__(self, oidc: OidcClient) -> None:
        self._oidc = oidc
        self._answered_at = float("-inf")

    async def readiness(self) -> str:
        """`ok` while discovery answers; otherwise what failed and what to check."""
        if time.monotonic() - self._answered_at < RECHECK_AFTER_S:
            return "ok"
        try:
            await self._oidc.check_discovery(timeout_s=CHECK_TIMEOUT_S)
        except OidcError as error:
            self._answered_at = float("-inf")
            return (
                f"OpenID discovery at {self._oidc.discovery_url} failed: {error}. Check "
                "IDENTITY_OIDC_ISSUER (unset in development: SKAART_PUBLIC_BASE_URL + /dev/idp, "
                "itself defaulting to the listening address)"
            )
        self._answered_at = time.monotonic()
        return "ok"

    async def check_at_start(self) -> None:
        """Log whether the provider answers; an error, with the reason, while it does not.

        Monolithic mode serves the development provider itself, and it answers only once
        the HTTP server listens (seconds after the services started): failures in the
        first `QUIET_AT_START_S` are expected and not reported.
        """
        started = time.monotonic()
        next_report = started + QUIET_AT_START_S
        while (state := await self.readiness()) != "ok":
            if time.monotonic() >= next_report:
                log.error(
                    "the identity provider does not answer: logins fail",
                    extra={"reason": state, "since_s": round(time.monotonic() - started)},
                )
                next_report += REPORT_EVERY_S
            await asyncio.sleep(1.0)
        log.info("the identity provider answers", extra={"issuer": self._oidc.issuer})
