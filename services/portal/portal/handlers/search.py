"""The public search form → the search API's query, and its answer → what the page lists."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from portal.adapters.services import ServiceClients
from portal.domain.messages import N_
from portal.domain.professions import profession_filter
from portal.handlers import account

POSTCODE = re.compile(r"^[1-9][0-9]{3}$")
PAGE_SIZE = 20
NEAR_KM = 10
"""A place typed in the form is searched around, this far: a GP in the next postcode is
as near as one in the same postcode, and a citizen typing 9000 wants both."""


@dataclass
class SearchForm:
    """What the visitor typed (kept as typed, to show it again)."""

    naam: str = ""
    beroep: str = ""
    plaats: str = ""
    doelgroep: str = ""
    taal: str = ""
    offset: int = 0

    @property
    def empty(self) -> bool:
        return not any((self.naam, self.beroep, self.plaats, self.doelgroep, self.taal))


@dataclass
class SearchOutcome:
    hits: list[dict[str, Any]] = field(default_factory=list)
    next_offset: int | None = None
    errors: dict[str, str] = field(default_factory=dict)
    near: str | None = None
    """The place searched around (as typed), when the form had one."""
    near_km: int = NEAR_KM


def search_params(form: SearchForm) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's query parameters, or per-field errors (Dutch messages, translated on the page)."""
    params: dict[str, Any] = {"limit": PAGE_SIZE, "offset": form.offset}
    errors: dict[str, str] = {}
    if form.naam.strip():
        params["q"] = form.naam.strip()
    if form.beroep.strip():
        wanted = profession_filter(form.beroep)
        if wanted is None:
            errors["beroep"] = N_("Dit beroep kennen we niet. Kies een beroep uit de lijst.")
        else:
            params.update(wanted)
    # "9000 Gent", "9000" or "Gent": around the postcode, else around the municipality,
    # nearest first (the directory places both; every hit then has its distance).
    words = form.plaats.replace(",", " ").split()
    postcode = next((word for word in words if POSTCODE.match(word)), None)
    place = " ".join(w for w in words if not w.isdigit())
    if postcode or place:
        params["near"] = postcode or place
        params["radius_km"] = NEAR_KM
    elif form.plaats.strip():
        errors["plaats"] = N_("Geef een postcode (vier cijfers) of een gemeente.")
    if form.doelgroep.strip():
        params["target_group"] = form.doelgroep.strip()
    if form.taal.strip():
        params["language"] = form.taal.strip()
    return params, errors


async def search(clients: ServiceClients, form: SearchForm) -> SearchOutcome:
    params, errors = search_params(form)
    if errors:
        return SearchOutcome(errors=errors)
    response = await clients.call("directory", "GET", "/api/directory/search", params=params)
    if response.status_code == 422:
        if set(account.refused(response).problem.field_errors) == {"near"}:
            return SearchOutcome(
                errors={
                    "plaats": N_(
                        "Deze plaats kennen we niet. Geef een postcode (vier cijfers) of "
                        "een Belgische gemeente."
                    )
                }
            )
        return SearchOutcome(errors={"naam": N_("Deze zoekopdracht kunnen we niet uitvoeren.")})
    response.raise_for_status()
    page = response.json()
    return SearchOutcome(
        hits=list(page.get("items", [])),
        next_offset=page.get("next_offset"),
        near=params.get("near"),
    )
