"""What a request's headers ask of an answer beside its URL: the `Accept` it admits and
FHIR's `Prefer: handling=lenient`. Read here once, by the FHIR endpoints (which answer
them) and by the response cache (which must not serve one client's answer to another)."""

from __future__ import annotations

from starlette.datastructures import Headers


def admits_json(accept: str | None) -> bool:
    """No header, `*/*` (curl's, a browser's), `application/*` or any JSON type: yes;
    only other types (`application/fhir+xml`): no."""
    if not accept:
        return True
    for part in accept.split(","):
        media = part.partition(";")[0].strip().lower()
        if media in ("*/*", "application/*", "application/json") or media.endswith("+json"):
            return True
    return False


def prefers_lenient(headers: Headers) -> bool:
    """`Prefer: handling=lenient`: unknown search parameters are left out, not refused."""
    return any(
        part.strip().lower() == "handling=lenient"
        for value in headers.getlist("prefer")
        for part in value.replace(",", ";").split(";")
    )


def varies_by_headers(headers: Headers) -> bool:
    """Whether the headers change the answer to the same URL (lenient handling, or an
    `Accept` that admits no JSON)."""
    return prefers_lenient(headers) or not admits_json(headers.get("accept"))
