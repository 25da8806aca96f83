"""What notifications consumes: its Kafka subscription, the topics it reads and the
handler of each event, as `entrypoints/http.py` declares the routes. The handlers
(`handlers/mail_requests.py`) are plain use cases.
"""

from __future__ import annotations

from contracts.base import Event
from contracts.events import fiches, identity, invitations
from notifications.handlers.mail_requests import MailRequestHandlers
from servicekit.messaging.inbox import EventHandler, Subscription

MAIL_REQUESTS = "mail-requests"
#: Every topic that asks notifications for an e-mail (a new one: here and in the topic's
#: consumers in contracts/topics.py).
MAIL_REQUEST_TOPICS = (
    identity.USERS_TOPIC,
    fiches.REQUESTS_TOPIC,
    fiches.EXPORTS_TOPIC,
    invitations.DELIVERIES_TOPIC,
)


def mail_requests(handlers: MailRequestHandlers) -> Subscription:
    """One consumer group over every topic that asks notifications for an e-mail."""
    by_event: dict[type[Event], EventHandler] = {
        identity.ActivationMailRequested: handlers.activation_mail_requested,
        identity.ProfileActivated: handlers.profile_activated,
        identity.EmailVerificationRequested: handlers.email_verification_requested,
        identity.UserActivated: handlers.user_activated,
        fiches.RequestDecided: handlers.request_decided,
        fiches.ExportReady: handlers.export_ready,
        invitations.InviteeMailRequested: handlers.invitee_mail_requested,
        invitations.InvitationMailRequested: handlers.invitation_mail_requested,
        invitations.InviterNotificationRequested: handlers.inviter_notification_requested,
    }
    return Subscription(
        name=MAIL_REQUESTS,
        topics=MAIL_REQUEST_TOPICS,
        handlers=by_event,
        description="E-mails to send and the address book (user id → verified address).",
    )


def subscriptions(handlers: MailRequestHandlers) -> list[Subscription]:
    """Every consumer group of notifications."""
    return [mail_requests(handlers)]
