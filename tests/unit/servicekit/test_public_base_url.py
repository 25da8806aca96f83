"""One public base URL for the platform, which every service's public addresses follow."""

from __future__ import annotations

from fiches.config import ExportSettings
from identity.config import Settings as IdentitySettings
from invitations.config import Settings as InvitationsSettings
from servicekit.settings import PlatformSettings


def test_the_listening_address_is_the_default_public_address() -> None:
    assert PlatformSettings(http_port=9123).public_url == "http://127.0.0.1:9123"
    every_interface = PlatformSettings(http_host="0.0.0.0", http_port=80)  # noqa: S104
    assert every_interface.public_url == "http://127.0.0.1:80"
    assert PlatformSettings(http_host="::1", http_port=8443).public_url == "http://[::1]:8443"
    configured = PlatformSettings(http_port=9123, public_base_url="https://kaart.example/")
    assert configured.public_url == "https://kaart.example"


def test_every_service_follows_the_platform_unless_it_sets_its_own() -> None:
    platform = PlatformSettings(http_port=9123)
    identity = IdentitySettings().resolved(platform)
    assert identity.public_base_url == "http://127.0.0.1:9123"
    assert identity.oidc_issuer == "http://127.0.0.1:9123/dev/idp"
    assert identity.redirect_uri == "http://127.0.0.1:9123/api/identity/login/callback"
    assert ExportSettings().resolved(platform).public_base_url == "http://127.0.0.1:9123"
    assert InvitationsSettings().resolved(platform).public_base_url == "http://127.0.0.1:9123"

    behind_gateway = PlatformSettings(public_base_url="https://kaart.example")
    assert InvitationsSettings().resolved(behind_gateway).public_base_url == "https://kaart.example"
    own = InvitationsSettings(public_base_url="https://uitnodigingen.example/")
    assert own.resolved(behind_gateway).public_base_url == "https://uitnodigingen.example"
    fas = IdentitySettings(oidc_issuer="https://idp.iamfas.belgium.be/fas/oauth2")
    assert fas.resolved(behind_gateway).oidc_issuer == "https://idp.iamfas.belgium.be/fas/oauth2"


def test_outside_development_the_identity_provider_must_be_named() -> None:
    platform = PlatformSettings(environment="production", public_base_url="https://kaart.example")
    problems = IdentitySettings().resolved(platform).problems(platform)
    assert any("IDENTITY_OIDC_ISSUER must name the identity provider" in p for p in problems)
