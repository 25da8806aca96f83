"""The scheme, host and port the directory's absolute links start with.

FHIR writes absolute URLs (`fullUrl`, a Bundle's `self` and `next`, the
CapabilityStatement's), HSDS its root's `openapi_url`. Behind the gateway, which ends
TLS, a request reaches the directory as `http` at an inner host, so the links are
written from SKAART_PUBLIC_BASE_URL when it is set, else from the request itself.
"""

from __future__ import annotations

from fastapi import Request


def origin(request: Request, public: str) -> str:
    """`public` (SKAART_PUBLIC_BASE_URL without its trailing slash), or the request's own
    scheme and host."""
    return public or f"{request.url.scheme}://{request.url.netloc}"
