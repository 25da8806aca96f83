"""Behind the gateway, which ends TLS, the directory's absolute links are written from
SKAART_PUBLIC_BASE_URL, not from the `http` request that reached it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.directory.support import searchable_directory, two_practices

GATEWAY = "https://kaart.example.invalid"


async def test_fhir_and_hsds_links_start_with_the_public_address(
    database_url_factory: Any, tmp_path: Path
) -> None:
    url = await database_url_factory("directory")
    async with searchable_directory(url, tmp_path, public_base_url=GATEWAY + "/") as directory:
        await two_practices(directory)
        bundle = (await directory.http.get("/fhir/PractitionerRole", params={"_count": 1})).json()
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        assert links["self"] == f"{GATEWAY}/fhir/PractitionerRole?_count=1"
        assert links["next"] == f"{GATEWAY}/fhir/PractitionerRole?_count=1&_offset=1"
        assert bundle["entry"][0]["fullUrl"].startswith(f"{GATEWAY}/fhir/PractitionerRole/")
        history = (await directory.http.get("/fhir/Practitioner/_history?_count=1")).json()
        following = next(link["url"] for link in history["link"] if link["relation"] == "next")
        assert following.startswith(f"{GATEWAY}/fhir/Practitioner/_history?_count=1&_page_after=")
        capability = (await directory.http.get("/fhir/metadata")).json()
        assert capability["implementation"]["url"] == f"{GATEWAY}/fhir"
        root = (await directory.http.get("/hsds/")).json()
        assert root["openapi_url"] == f"{GATEWAY}/hsds/openapi.json"
        described = await directory.http.get("/hsds/openapi.json")
        assert described.status_code == 200
        assert "/hsds/services" in described.json()["paths"]
        # The HSDS API alone: what an HSDS client generates its code from.
        assert all(path.startswith("/hsds/") for path in described.json()["paths"])
        schemas = described.json().get("components", {}).get("schemas", {})
        referenced = set(re.findall(r'"#/components/schemas/([^"]+)"', described.text))
        assert referenced <= set(schemas), "every schema it refers to is in it"


async def test_without_a_public_address_the_links_are_the_requests_own(
    database_url_factory: Any, tmp_path: Path
) -> None:
    url = await database_url_factory("directory")
    async with searchable_directory(url, tmp_path) as directory:
        await two_practices(directory)
        bundle = (await directory.http.get("/fhir/Practitioner", params={"_count": 1})).json()
        assert bundle["link"][0]["url"] == "http://test/fhir/Practitioner?_count=1"
        root = (await directory.http.get("/hsds/")).json()
        assert root["openapi_url"] == "http://test/hsds/openapi.json"
