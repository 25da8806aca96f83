"""The sender loop: sends pending deliveries, retries with backoff, reports the outcome.

Order of work per delivery, and why it is at-least-once:
1. the consumer recorded the delivery (`pending`) in the inbox's transaction;
2. the sender holds it with a lease (committed), renders and sends it over SMTP;
3. it marks the delivery `sent` (or schedules the retry, or marks it `failed`) and
   queues DeliverySucceeded/DeliveryFailed in the outbox, in one transaction.
A crash between 2 and 3 leaves the delivery pending; once the lease runs out it is
sent again. A lost activation link blocks a person, a second copy does not, so a rare
duplicate (with the same Message-ID, which mail clients fold together) is the better
failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.events.notifications import DeliveryFailed, DeliverySucceeded
from notifications.adapters import deliveries as repository
from notifications.adapters.rendering import TemplateError, TemplateRenderer, build_message
from notifications.adapters.smtp import SmtpSendError, SmtpTarget, describe, send_message
from notifications.config import Settings
from notifications.domain.deliveries import (
    PREFER_RECIPIENT_LANGUAGE,
    DeliveryStatus,
    recipient_digest,
    retry_delay,
    scrub,
)
from servicekit.messaging.outbox import Outbox
from servicekit.sealing import KeyRing, SealingError, is_sealed
from servicekit.waiting import wait_until_set

log = logging.getLogger(__name__)

NO_ADDRESS_ERROR = "no address known for the recipient (never activated)"


def _now() -> datetime:
    return datetime.now(UTC)


class DeliverySender:
    """Sends due deliveries one by one; never raises out of `run`."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        settings: Settings,
        target: Callable[[], SmtpTarget],
        keys: KeyRing,
        renderer: TemplateRenderer | None = None,
        clock: Callable[[], datetime] = _now,
        batch_size: int = 20,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._settings = settings
        self._target = target
        self._keys = keys
        self._renderer = renderer or TemplateRenderer()
        # `Name <a@b>` → `a@b`: the SMTP envelope sender.
        self._envelope_from = parseaddr(settings.mail_from)[1] or settings.mail_from
        self._clock = clock
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        # Long enough for one whole SMTP attempt; a sender that died mid-attempt
        # releases its deliveries when it runs out.
        self._lease = timedelta(seconds=settings.smtp_timeout_s * 2 + 30)

    def wake(self) -> None:
        """Look for due deliveries now (the consumer just committed new ones)."""
        self._wake.set()

    async def run(self) -> None:
        """Background loop of the service (ServiceRuntime.run_in_background)."""
        while True:
            try:
                worked = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # The database may be away; the next round tries again.
                log.warning("sender round failed", extra={"error": describe(error)})
                worked = 0
            if worked:
                continue
            await wait_until_set(self._wake, self._settings.sender_poll_s)
            self._wake.clear()

    async def run_once(self) -> int:
        """Fail expired waits, then try every due delivery once; returns how many."""
        now = self._clock()
        handled = await self._fail_expired_waits(now)
        async with self._sessions() as session:
            due = await repository.due_deliveries(session, now, self._batch_size)
        for delivery in due:
            if await self._attempt(delivery):
                handled += 1
        return handled

    async def _fail_expired_waits(self, now: datetime) -> int:
        before = now - timedelta(seconds=self._settings.address_wait_s)
        async with self._sessions() as session, session.begin():
            expired = await repository.expired_waits(session, before)
            for wait in expired:
                await self._record_outcome(
                    session, wait, 0, DeliveryStatus.FAILED, NO_ADDRESS_ERROR, now
                )
        if expired:
            self._outbox.notify_committed()
        for wait in expired:
            _log_outcome(wait, 0, DeliveryStatus.FAILED, NO_ADDRESS_ERROR)
        return len(expired)

    async def _attempt(self, delivery: repository.DueDelivery) -> bool:
        async with self._sessions() as session, session.begin():
            if not await repository.claim(
                session, delivery.delivery_id, self._clock(), self._lease
            ):
                return False
        attempts = delivery.attempts + 1
        digest: str | None = None
        try:
            # Opened here, in memory, for this attempt only; never written back.
            recipient = self._open_recipient(delivery)
            digest = recipient_digest(recipient)
            language = await self._language(delivery, recipient)
            message = self._compose(delivery, recipient, language)
            await send_message(message, self._target(), envelope_from=self._envelope_from)
        except (TemplateError, SealingError) as error:
            failure = scrub(str(error))[:300]
            await self._finish(delivery, attempts, DeliveryStatus.FAILED, failure, digest)
        except Exception as error:  # SMTP refused or unreachable, no relay configured, a bug
            smtp = error if isinstance(error, SmtpSendError) else None
            description = smtp.description if smtp else describe(error)
            if (smtp and smtp.permanent) or attempts >= self._settings.send_attempts:
                await self._finish(delivery, attempts, DeliveryStatus.FAILED, description, digest)
            else:
                await self._retry_later(delivery, attempts, description)
        else:
            await self._finish(delivery, attempts, DeliveryStatus.SENT, None, digest)
        return True

    def _open_recipient(self, delivery: repository.DueDelivery) -> str:
        if not is_sealed(delivery.sealed_email):  # stored before sealing, not yet sealed anew
            return delivery.sealed_email
        return self._keys.open(delivery.sealed_email, delivery.email_purpose)

    async def _language(self, delivery: repository.DueDelivery, recipient: str) -> str:
        """The delivery's language, or the recipient's own when it asks for that and the
        address belongs to a user notifications knows."""
        if not delivery.context.get(PREFER_RECIPIENT_LANGUAGE):
            return delivery.language
        async with self._sessions() as session:
            own = await repository.language_for_address(
                session, self._keys.address_digests(recipient)
            )
        return own or delivery.language

    def _compose(
        self, delivery: repository.DueDelivery, recipient: str, language: str
    ) -> EmailMessage:
        values = repository.open_context(delivery.context, self._keys, delivery.source_id)
        rendered = self._renderer.render(delivery.template, language, values)
        return build_message(
            rendered,
            sender=self._settings.mail_from,
            recipient=recipient,
            language=language,
            message_id=delivery.delivery_id,
        )

    async def _retry_later(
        self, delivery: repository.DueDelivery, attempts: int, error: str
    ) -> None:
        delay = retry_delay(
            attempts, self._settings.send_backoff_s, self._settings.send_backoff_max_s
        )
        async with self._sessions() as session, session.begin():
            await repository.schedule_retry(
                session,
                delivery.delivery_id,
                attempts=attempts,
                error=error,
                at=self._clock() + delay,
            )
        log.warning(
            "delivery attempt failed; retrying",
            extra={
                "delivery_id": delivery.delivery_id,
                "template": delivery.template,
                "attempt": attempts,
                "retry_in_s": delay.total_seconds(),
                "error": error,
            },
        )

    async def _finish(
        self,
        delivery: repository.DueDelivery,
        attempts: int,
        status: DeliveryStatus,
        error: str | None,
        digest: str | None = None,
    ) -> None:
        async with self._sessions() as session, session.begin():
            await self._record_outcome(
                session, delivery, attempts, status, error, self._clock(), digest
            )
        self._outbox.notify_committed()
        _log_outcome(delivery, attempts, status, error)

    async def _record_outcome(
        self,
        session: AsyncSession,
        delivery: repository.DueDelivery | repository.ExpiredWait,
        attempts: int,
        status: DeliveryStatus,
        error: str | None,
        now: datetime,
        digest: str | None = None,
    ) -> None:
        """Sent or failed, in the caller's transaction: the row and its outcome event."""
        await repository.mark_finished(
            session,
            delivery.delivery_id,
            status=status,
            attempts=attempts,
            error=error,
            now=now,
            digest=digest,
        )
        facts = {
            "delivery_id": delivery.delivery_id,
            "source_event_type": delivery.source_event_type,
            "source_id": delivery.source_id,
            "template": delivery.template,
            "attempts": attempts,
            "occurred_at": now,
        }
        if status is DeliveryStatus.SENT:
            await self._outbox.add(session, DeliverySucceeded(**facts))
        else:
            await self._outbox.add(session, DeliveryFailed(**facts, error=error or "unknown"))


def _log_outcome(
    delivery: repository.DueDelivery | repository.ExpiredWait,
    attempts: int,
    status: DeliveryStatus,
    error: str | None,
) -> None:
    extra = {"delivery_id": delivery.delivery_id, "template": delivery.template}
    if status is DeliveryStatus.SENT:
        log.info("delivery sent", extra={**extra, "attempts": attempts})
    else:
        log.warning("delivery failed", extra={**extra, "attempts": attempts, "error": error})
