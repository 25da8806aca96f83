"""What a service's error answer says, read from either shape it may have.

The services answer errors as RFC 9457 problem details (`title`, `detail`, `what_to_do`,
`errors: [{field, message}]`) or in the older FastAPI shape (`{"detail": "text"}`,
`{"detail": {"code", "message", "what_to_do"}}` or `{"detail": [{"loc", "msg"}]}`). The
pages need the same three things from both: a sentence, what to do, and per-field errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.domain.messages import N_


@dataclass(frozen=True)
class Problem:
    """An error answer, reduced to what a page shows."""

    status: int
    code: str | None = None
    message: str = ""
    what_to_do: str = ""
    field_errors: dict[str, str] = field(default_factory=dict)


def _field_of(loc: Any) -> str | None:
    """The top-level field a location names (`["body", "phone_numbers", 0, "number"]` →
    `phone_numbers`): the form shows the error next to that field."""
    if isinstance(loc, list | tuple) and loc:
        names = [str(part) for part in loc if isinstance(part, str)]
        if len(names) > 1 and names[0] in ("body", "query", "path", "header", "cookie"):
            return names[1]
        return names[-1] if names else None
    return str(loc) if loc else None


def _from_items(items: list[Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        # Problem details name a field by its dotted path (`phone_numbers.0.number`); the
        # form shows the error next to the top-level field it belongs to.
        path = item.get("field")
        name = str(path).split(".")[0] if path else _field_of(item.get("loc"))
        text = str(item.get("message") or item.get("msg") or "")
        # pydantic prefixes a validator's own message; the person needs only the message.
        text = text.removeprefix("Value error, ")
        if name and name not in errors:
            errors[str(name)] = text
    return errors


def read_problem(status: int, body: Any) -> Problem:
    """A Problem from a decoded JSON error body (anything else gives a bare Problem)."""
    if not isinstance(body, dict):
        return Problem(status)
    if "title" in body or "errors" in body:
        errors = body.get("errors")
        return Problem(
            status,
            code=body.get("code") or _last_segment(body.get("type")),
            message=str(body.get("detail") or body.get("title") or ""),
            what_to_do=str(body.get("what_to_do") or ""),
            field_errors=_from_items(errors) if isinstance(errors, list) else {},
        )
    detail = body.get("detail")
    if isinstance(detail, str):
        return Problem(status, message=detail)
    if isinstance(detail, dict):
        return Problem(
            status,
            code=detail.get("code"),
            message=str(detail.get("message") or ""),
            what_to_do=str(detail.get("what_to_do") or ""),
        )
    if isinstance(detail, list):
        first = detail[0] if detail and isinstance(detail[0], dict) else {}
        return Problem(
            status,
            code=first.get("code") or first.get("type"),
            message=str(first.get("msg") or first.get("message") or ""),
            what_to_do=str(first.get("what_to_do") or ""),
            field_errors=_from_items(detail),
        )
    return Problem(status)


def _last_segment(value: Any) -> str | None:
    if not isinstance(value, str) or value in ("", "about:blank"):
        return None
    return value.rstrip("/").rsplit("/", 1)[-1]


#: The portal's own words (Dutch, translated on the page) for errors it knows by code;
#: any other error shows the service's message.
KNOWN_MESSAGES: dict[str, str] = {
    "invalid_email": N_("Dit is geen bruikbaar e-mailadres. Schrijf het zoals naam@voorbeeld.be."),
    "string_too_long": N_("Dit is te lang."),
    "missing": N_("Vul dit in."),
    "rate_limited": N_("Je vroeg te veel activatielinks aan. Wacht even en probeer opnieuw."),
    "email_already_verified": N_("Dit is al je bevestigde e-mailadres."),
}


#: The portal's own words for a refused value of a field the services validate (by the
#: API's field name), so the message is in the page's language.
FIELD_MESSAGES: dict[str, str] = {
    "phone_numbers": N_(
        "Dit is geen geldig Belgisch telefoonnummer. Schrijf het zoals 09 265 81 11 of "
        "0470 12 34 56."
    ),
    "email_addresses": KNOWN_MESSAGES["invalid_email"],
    "websites": N_("Dit is geen webadres. Schrijf het zoals https://www.voorbeeld.be."),
    "languages": N_("Kies talen uit de lijst."),
}


def in_own_words(field_errors: dict[str, str]) -> dict[str, str]:
    """Per-field errors, in the portal's words where it has them (API field names kept)."""
    return {name: FIELD_MESSAGES.get(name, message) for name, message in field_errors.items()}


def errors_by_field(problem: Problem, field_name: str) -> dict[str, str]:
    """Per-field messages for a refused form; an error without a field goes on `field_name`."""
    known = KNOWN_MESSAGES.get(problem.code or "")
    if problem.field_errors:
        if known and len(problem.field_errors) == 1:
            return {name: known for name in problem.field_errors}
        return dict(problem.field_errors)
    return {field_name: known or problem.message}


#: The portal's own words for a refusal page, by the service's status, when the portal has
#: none for its code: the services explain in English, and a Dutch page showed that text
#: under a Dutch heading. The service's own sentence stays below, marked as English.
STATUS_MESSAGES: dict[int, tuple[str, str]] = {
    401: (
        N_("Je bent niet (meer) aangemeld."),
        N_("Meld je opnieuw aan en probeer het nog eens."),
    ),
    403: (
        N_("Dit mag je niet doen of bekijken met dit gebruikersprofiel."),
        N_(
            "Controleer of je aangemeld bent als de juiste persoon. Heb je rechten nodig, "
            "vraag ze dan aan een beheerder van de praktijk of aan de redactie."
        ),
    ),
    404: (
        N_("Wat je zocht, bestaat niet (meer)."),
        N_("Ga terug en kies opnieuw."),
    ),
    409: (
        N_("Dit werd intussen al gewijzigd of beslist."),
        N_("Laad de pagina opnieuw om te zien hoe het nu staat."),
    ),
    410: (
        N_("Deze link of aanvraag geldt niet meer."),
        N_("Vraag een nieuwe aan."),
    ),
    429: (
        N_("Je vroeg dit te vaak na elkaar."),
        N_("Wacht even en probeer het opnieuw."),
    ),
}


def page_words(problem: Problem) -> tuple[str | None, str | None, str]:
    """A refusal page's sentence and advice in the portal's words (None: the page's
    defaults), and the service's own sentence to show below them ("" when the portal's
    words are the service's)."""
    if problem.code in KNOWN_MESSAGES:
        return KNOWN_MESSAGES[problem.code], problem.what_to_do or None, ""
    if problem.status in STATUS_MESSAGES:
        message, what_to_do = STATUS_MESSAGES[problem.status]
        return message, what_to_do, problem.message
    return problem.message or None, problem.what_to_do or None, ""
