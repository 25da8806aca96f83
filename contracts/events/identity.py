"""Events identity publishes: e-mail verification and activation, profiles, signing keys.

`identity.users.v1` is restricted (it carries e-mail addresses and activation links, sealed
for notifications since `ActivationMailRequested` and `ProfileActivated`): only
notifications reads it. `identity.profiles.v1` is restricted too, but carries no address:
an activated user's name and a keyed hash of their address, so fiches can name managers
and find the person a manager grants rights to. `identity.signing-keys.v1` carries public
keys only, so the other services can verify access tokens without calling identity.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from contracts.base import EVENT_TYPE_PREFIX, Event

USERS_TOPIC = "identity.users.v1"
PROFILES_TOPIC = "identity.profiles.v1"
SIGNING_KEYS_TOPIC = "identity.signing-keys.v1"


class Role(StrEnum):
    """What a user may do on the platform."""

    CITIZEN = "citizen"
    PROFESSIONAL = "professional"
    TEAM = "team"
    """Editorial staff of the social map; granted by an operator command."""


class EmailVerificationRequested(Event):
    """A user gave (or asked to resend) the address for management messages.

    Superseded by `ActivationMailRequested`, which carries the address and the link
    sealed for notifications; identity no longer publishes this event, and notifications
    still reads it so that events published before the upgrade are mailed.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "identity.EmailVerificationRequested"
    topic: ClassVar[str] = USERS_TOPIC

    verification_id: str = Field(description="Id of this verification request.")
    user_id: str = Field(description="identity's opaque id of the user.")
    email: str = Field(description="The address to verify (restricted topic only).")
    language: str = Field(description="Language of the message: nl, fr or en.")
    display_name: str = Field(description="Given name, to greet the user.")
    activation_url: str = Field(description="Single-use activation link, carrying the token.")
    expires_at: datetime = Field(description="When the link stops working.")
    occurred_at: datetime = Field(description="When identity issued the request.")

    def partition_key(self) -> str:
        return self.user_id


class ActivationMailRequested(Event):
    """A user gave (or asked to resend) the address for management messages.

    notifications mails the activation link; the token in it is single-use and identity
    keeps only its hash. The address and the link are sealed with notifications' public
    mail key (servicekit.sealing): only notifications can open them, when it sends.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "identity.ActivationMailRequested"
    topic: ClassVar[str] = USERS_TOPIC

    verification_id: str = Field(description="Id of this verification request.")
    user_id: str = Field(description="identity's opaque id of the user.")
    sealed_email: str = Field(
        description="The address to verify, sealed for notifications; bound to `email:<user_id>`."
    )
    language: str = Field(description="Language of the message: nl, fr or en.")
    display_name: str = Field(description="Given name, to greet the user.")
    sealed_activation_url: str = Field(
        description="Single-use activation link (carries the token), sealed for "
        "notifications; bound to `activation_url:<verification_id>`."
    )
    expires_at: datetime = Field(description="When the link stops working.")
    occurred_at: datetime = Field(description="When identity issued the request.")

    def partition_key(self) -> str:
        return self.user_id


class UserActivated(Event):
    """A user followed their activation link: the address is theirs and the profile active.

    Superseded by `ProfileActivated` (the address sealed for notifications); identity no
    longer publishes this event, notifications still reads it.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "identity.UserActivated"
    topic: ClassVar[str] = USERS_TOPIC

    user_id: str = Field(description="identity's opaque id of the user.")
    email: str = Field(description="The verified address (restricted topic only).")
    language: str = Field(description="Preferred language: nl, fr or en.")
    display_name: str = Field(description="Given name, to greet the user.")
    roles: tuple[Role, ...] = Field(description="Roles the user has.")
    professional_id: str | None = Field(
        default=None, description="registry's id of the person, for a professional."
    )
    occurred_at: datetime = Field(description="When the profile was activated.")

    def partition_key(self) -> str:
        return self.user_id


class ProfileActivated(Event):
    """A user followed their activation link: the address is theirs and the profile active.

    notifications keeps `user_id → (sealed address, language, name)` from this event, so
    other services' events name a user by id only.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "identity.ProfileActivated"
    topic: ClassVar[str] = USERS_TOPIC

    user_id: str = Field(description="identity's opaque id of the user.")
    sealed_email: str = Field(
        description="The verified address, sealed for notifications; bound to `email:<user_id>`."
    )
    language: str = Field(description="Preferred language: nl, fr or en.")
    display_name: str = Field(description="Given name, to greet the user.")
    roles: tuple[Role, ...] = Field(description="Roles the user has.")
    professional_id: str | None = Field(
        default=None, description="registry's id of the person, for a professional."
    )
    occurred_at: datetime = Field(description="When the profile was activated.")

    def partition_key(self) -> str:
        return self.user_id


class UserProfilePublished(Event):
    """An activated user as other platform services may name and find them.

    Published at activation and whenever the name changes (a later login), and once for
    every activated user who has none yet. Never the address itself: `email_lookup` is a
    keyed hash of it, which only a service holding the lookup key can compare with an
    address someone types.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "identity.UserProfilePublished"
    topic: ClassVar[str] = PROFILES_TOPIC

    user_id: str = Field(description="identity's opaque id of the user.")
    display_name: str = Field(description="Given name and surname, as the login gave them.")
    email_lookup: str = Field(
        description="HMAC-SHA256 (hex) of the verified address, lower-cased, with the "
        "lookup key identity shares with fiches (servicekit.email_lookup)."
    )
    professional_id: str | None = Field(
        default=None, description="registry's id of the person, for a professional."
    )
    occurred_at: datetime = Field(description="When identity published the profile.")

    def partition_key(self) -> str:
        return self.user_id


class SigningKeyPublished(Event):
    """A public key that verifies identity's access tokens (JWT, `kid` in the header).

    Keys are announced before identity signs with them and stay valid until `retire_after`,
    so a rotation never rejects a token in flight.
    """

    event_type: ClassVar[str] = EVENT_TYPE_PREFIX + "identity.SigningKeyPublished"
    topic: ClassVar[str] = SIGNING_KEYS_TOPIC

    kid: str = Field(description="Key id, as in the JWT header.")
    algorithm: str = Field(description="JWS algorithm, e.g. `ES256`.")
    public_jwk: dict[str, str] = Field(description="The public key as a JWK (RFC 7517).")
    not_before: datetime = Field(description="identity signs with it from this moment.")
    retire_after: datetime | None = Field(
        default=None, description="Tokens signed with it are refused after this moment."
    )
    occurred_at: datetime = Field(description="When identity published the key.")

    def partition_key(self) -> str:
        return self.kid
