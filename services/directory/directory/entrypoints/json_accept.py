"""Whether a request's `Accept` header admits the JSON the public reads answer with."""

from __future__ import annotations


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
