"""The address of the client behind the platform's trusted proxies.

`X-Forwarded-For` is written by every hop a request passes, and the first hops are the
client's own: anyone can put any address there. Only the entries that trusted proxies
appended mean anything, so the address is read from the right: past the hops that are
trusted proxies, the first address is the client's. A request that does not come from a
trusted proxy is its own client, whatever headers it carries.

The trusted proxies are a setting (`SKAART_TRUSTED_PROXIES`; the gateway in Kubernetes),
empty by default: then nothing forwarded is believed. uvicorn's own header handling is off
(`uvicorn_config`, used by `skaart serve` and `skaart up`): by default it believes
`X-Forwarded-For` from 127.0.0.1, which let anyone on the host pick their address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def parse_networks(value: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 192.0.2.7` → networks; ValueError naming the entry that is not one."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise ValueError(
                f"{entry!r} is not an IP address or network (write e.g. 10.0.0.0/8 or 192.0.2.7)"
            ) from error
    return tuple(networks)


class ProxySettings(BaseSettings):
    """Which proxies in front of the services are believed (prefix `SKAART_`)."""

    model_config = SettingsConfigDict(env_prefix="SKAART_", extra="ignore")

    trusted_proxies: str = Field(
        default="",
        description="Comma-separated IP addresses or networks of the proxies in front of "
        "the services (the gateway), whose X-Forwarded-For entries are believed. Empty: "
        "none; the peer's address is the client's.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    def resolver(self) -> ClientAddress:
        """The resolver these settings describe."""
        return ClientAddress(parse_networks(self.trusted_proxies))


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    candidate = text.strip()
    if candidate.startswith("[") and "]" in candidate:  # [2001:db8::1]:443
        candidate = candidate[1 : candidate.index("]")]
    elif candidate.count(":") == 1:  # 192.0.2.1:443
        candidate = candidate.split(":", 1)[0]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


@dataclass(frozen=True)
class ClientAddress:
    """Finds a request's client address, believing only the trusted proxies."""

    trusted: Sequence[Network] = field(default_factory=tuple)

    def _is_trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in self.trusted)

    def of(self, request: Request) -> str:
        """The client's address (text), or `unknown` when the request has no peer."""
        peer = request.client.host if request.client else ""
        peer_ip = _ip(peer)
        if peer_ip is None:
            return peer or UNKNOWN
        if not self._is_trusted(peer_ip):
            return str(peer_ip)
        hops = [
            hop
            for header in request.headers.getlist("x-forwarded-for")
            for hop in header.split(",")
            if hop.strip()
        ]
        client = peer_ip
        for hop in reversed(hops):
            address = _ip(hop)
            if address is None:
                # Not an address: written by the client, not by a trusted proxy.
                break
            client = address
            if not self._is_trusted(address):
                break
        return str(client)


HTTP_DRAIN_S = 10
"""On SIGTERM, how long uvicorn lets requests in flight finish before it closes their
connections and runs the app's shutdown (by default it would wait for ever)."""


def uvicorn_config(app: Any, host: str, port: int) -> Any:
    """How the platform serves HTTP: uvicorn without its forwarded-header handling, so a
    request's peer stays the peer and only `ClientAddress` reads X-Forwarded-For; and a
    bounded drain on SIGTERM, so a stop fits the pod's grace period (servicekit.runtime)."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        proxy_headers=False,
        timeout_graceful_shutdown=HTTP_DRAIN_S,
    )
