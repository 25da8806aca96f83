"""The client address is read from the trusted hops of X-Forwarded-For only; the server
configuration that keeps it so (`uvicorn_config`) also takes the fast parser and loop."""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from servicekit.client_address import ClientAddress, ProxySettings, uvicorn_config


def request_from(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 40000), "headers": headers})


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards() -> None:
    resolver = ProxySettings().resolver()
    assert resolver.of(request_from("127.0.0.1", "203.0.113.9")) == "127.0.0.1"
    assert resolver.of(request_from("198.51.100.4", "203.0.113.9")) == "198.51.100.4"


def test_behind_the_trusted_gateway_the_client_is_the_address_the_gateway_appended() -> None:
    resolver = ProxySettings(trusted_proxies="10.0.0.0/8").resolver()
    # The client wrote "1.1.1.1" itself; the gateway appended the address it saw.
    assert resolver.of(request_from("10.4.0.7", "1.1.1.1, 203.0.113.9")) == "203.0.113.9"
    assert resolver.of(request_from("10.4.0.7", "2.2.2.2, 203.0.113.9")) == "203.0.113.9"
    assert resolver.of(request_from("10.4.0.7", "203.0.113.10")) == "203.0.113.10"
    # Several headers count as one list; a request without one is the gateway's own.
    assert resolver.of(request_from("10.4.0.7", "1.1.1.1", "203.0.113.11")) == "203.0.113.11"
    assert resolver.of(request_from("10.4.0.7")) == "10.4.0.7"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    resolver = ProxySettings(trusted_proxies="10.0.0.0/8, 192.0.2.1").resolver()
    chain = "6.6.6.6, 203.0.113.9, 192.0.2.1, 10.1.1.1"
    assert resolver.of(request_from("10.4.0.7", chain)) == "203.0.113.9"
    assert resolver.of(request_from("10.4.0.7", "garbage, 10.1.1.1")) == "10.1.1.1"
    assert resolver.of(request_from("10.4.0.7", "[2001:db8::5]:443")) == "2001:db8::5"


def test_an_untrusted_peer_cannot_pass_as_the_gateway() -> None:
    resolver = ClientAddress(ProxySettings(trusted_proxies="10.0.0.0/8").resolver().trusted)
    assert resolver.of(request_from("203.0.113.50", "10.4.0.7")) == "203.0.113.50"


def test_a_wrong_trusted_proxies_setting_is_refused_with_the_entry() -> None:
    with pytest.raises(ValidationError, match="'gateway' is not an IP address or network"):
        ProxySettings(trusted_proxies="10.0.0.0/8, gateway")


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows")
def test_the_platform_serves_http_with_the_c_parser_and_the_libuv_loop() -> None:
    """`uvicorn_config` is how `skaart serve` and `skaart up` serve: uvicorn takes httptools
    and uvloop only when they are installed, and drops back to h11 and asyncio's own loop
    without a word when they are not (the directory's postcode search then answered a
    sixth to a third less: docs/benchmarks.md, "uvloop and httptools"). `skaart up` starts
    its own loop, the same one (servicekit/event_loop.py, test_event_loop.py)."""
    import uvloop
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    config = uvicorn_config(object(), "127.0.0.1", 8000)
    config.load()

    assert config.http_protocol_class is HttpToolsProtocol
    assert config.get_loop_factory() is uvloop.new_event_loop
