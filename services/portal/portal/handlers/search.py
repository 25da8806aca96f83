"""The public search form → the search API's query, and its answer → what the page lists."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from portal.adapters.services import ServiceClients
from portal.domain.messages import N_
from portal.domain.professions import profession_filter

POSTCODE = re.compile(r"^[1-9][0-9]{3}$")
PAGE_SIZE = 20


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
    # "9000 Gent", "9000" or "Gent": a postcode and/or a municipality.
    for word in form.plaats.replace(",", " ").split():
        if POSTCODE.match(word):
            params["postcode"] = word
    place = " ".join(w for w in form.plaats.replace(",", " ").split() if not w.isdigit())
    if place:
        params["municipality"] = place
    elif form.plaats.strip() and "postcode" not in params:
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
        return SearchOutcome(errors={"naam": N_("Deze zoekopdracht kunnen we niet uitvoeren.")})
    response.raise_for_status()
    page = response.json()
    return SearchOutcome(hits=list(page.get("items", [])), next_offset=page.get("next_offset"))
