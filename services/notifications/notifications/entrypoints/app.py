"""Composition root of notifications."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import FastAPI

from notifications.adapters.deliveries import seal_at_rest
from notifications.adapters.dev_mailbox import DevMailbox
from notifications.adapters.rendering import TemplateRenderer
from notifications.adapters.smtp import NoSmtpRelay, SmtpTarget
from notifications.adapters.tables import TABLES
from notifications.config import Settings
from notifications.entrypoints.http import dev_mailbox_router
from notifications.entrypoints.kafka import subscriptions
from notifications.handlers.mail_requests import MailRequestHandlers
from notifications.handlers.sender import DeliverySender
from servicekit.component import ServiceComponent, standalone_app
from servicekit.runtime import ServiceRuntime
from servicekit.sealing import KeyRing
from servicekit.settings import KafkaSettings, PlatformSettings, service_database_url

SERVICE = "notifications"
MAILBOX_DIRNAME = "mailbox"

log = logging.getLogger(__name__)


@dataclass
class NotificationsComponent(ServiceComponent):
    """notifications with its sender and, in development, its local mailbox."""

    sender: DeliverySender | None = None
    mailbox: DevMailbox | None = None


def smtp_target(settings: Settings, mailbox: DevMailbox | None) -> SmtpTarget:
    """The configured relay, or the development mailbox when it runs."""
    timeout = settings.smtp_timeout_s
    if mailbox is not None:
        if mailbox.port is None:
            raise NoSmtpRelay(
                "the development mailbox is not listening yet; the message is retried"
            )
        return SmtpTarget("127.0.0.1", mailbox.port, tls="none", timeout_s=timeout)
    if not settings.smtp_host:
        raise NoSmtpRelay("no SMTP relay configured: set NOTIFICATIONS_SMTP_HOST")
    return SmtpTarget(
        host=settings.smtp_host,
        port=settings.smtp_port,
        tls=settings.smtp_tls,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout_s=timeout,
    )


async def _seal_at_rest(runtime: ServiceRuntime, keys: KeyRing) -> None:
    """Seal what older versions stored clear, or sealed to a key since rotated."""
    try:
        async with runtime.sessions() as session, session.begin():
            changed = await seal_at_rest(session, keys)
    except Exception as error:  # the database may be away; the next start tries again
        log.warning("sealing stored addresses failed", extra={"error": type(error).__name__})
        return
    if changed:
        log.info("stored addresses and links sealed to the current key", extra={"count": changed})


def build_component(
    platform: PlatformSettings | None = None,
    kafka: KafkaSettings | None = None,
    settings: Settings | None = None,
) -> NotificationsComponent:
    """notifications as a component: records mail requests, sends them, reports outcomes."""
    platform = platform or PlatformSettings()
    settings = settings or Settings()
    problems = settings.problems(platform)
    if problems:
        raise RuntimeError("; ".join(problems))
    keys = settings.key_ring()
    runtime = ServiceRuntime(
        name=SERVICE,
        database_url=service_database_url(SERVICE, settings.database_url, platform),
        kafka=kafka or KafkaSettings(),
        tables=TABLES,
        migrations_package="notifications.migrations",
    )
    for subscription in subscriptions(MailRequestHandlers(keys=keys)):
        runtime.subscribe(subscription)
    mailbox = (
        DevMailbox(platform.data_dir / MAILBOX_DIRNAME)
        if settings.uses_embedded_smtp(platform)
        else None
    )
    sender = DeliverySender(
        sessions=runtime.sessions,
        outbox=runtime.outbox,
        settings=settings,
        keys=keys,
        target=lambda: smtp_target(settings, mailbox),
        renderer=TemplateRenderer(portal_url=platform.public_url),
    )
    # The inbox tells the outbox after each committed batch; the sender listens too.
    runtime.outbox.on_commit(sender.wake)
    routers = []
    if mailbox is not None:
        runtime.run_in_background("dev-mailbox", mailbox.run)
        routers.append(dev_mailbox_router(mailbox, platform))

    async def send_loop() -> None:
        await _seal_at_rest(runtime, keys)
        if mailbox is not None:
            # The first round must find the mailbox listening, not back off for 30 s.
            await mailbox.ready.wait()
        elif not settings.smtp_host:
            log.error(
                "no SMTP relay configured (NOTIFICATIONS_SMTP_HOST): every message will fail",
                extra={"service": SERVICE},
            )
        await sender.run()

    runtime.run_in_background("sender", send_loop)
    return NotificationsComponent(
        name=SERVICE, runtime=runtime, routers=routers, sender=sender, mailbox=mailbox
    )


def create_app() -> FastAPI:
    """ASGI factory for microservices mode."""
    return standalone_app(build_component())
