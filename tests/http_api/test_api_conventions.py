"""What every service's HTTP API shares: problem details for every error, unknown body
fields refused, patterns refused in words, the bearer scheme in the OpenAPI, and API docs
that need no CDN."""

from __future__ import annotations

import tempfile
import typing
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from servicekit.component import ServiceComponent
from servicekit.http import api_app
from servicekit.inputs import RequestBody
from servicekit.problems import FieldError, Problem
from servicekit.readable_patterns import described, what_matches
from servicekit.settings import KafkaSettings, PlatformSettings
from skaart.components import build_all
from skaart.monolith import monolith_app
from tests.support.problems import error_locs, problem_of

#: Refuses unknown fields itself, naming authentic-source fields with how to report an
#: error in the source (tests/fiches/test_bad_input.py).
REFUSES_UNKNOWN_FIELDS_ITSELF = {"ProviderOwnEdit"}


@pytest.fixture(scope="module")
def components() -> list[ServiceComponent]:
    data_dir = Path(tempfile.mkdtemp(prefix="skaart-conventions-"))
    return build_all(PlatformSettings(data_dir=data_dir), KafkaSettings())


class Body(RequestBody):
    name: str
    opens: str | None = Field(
        default=None, pattern=described(r"^[0-2][0-9]:[0-5][0-9]$", "a time as HH:MM (08:30)")
    )
    code: str | None = Field(default=None, pattern=r"^[a-z]+$")


def _demo_app() -> FastAPI:
    router = APIRouter()

    @router.get("/refused")
    async def refused() -> None:
        raise HTTPException(409, "it was already decided")

    @router.get("/problem")
    async def problem() -> None:
        raise Problem(
            403,
            "not_a_manager",
            "You do not manage \ud800 this practice.",
            what_to_do="Ask a manager.",
            errors=[FieldError("path", "practice_id", "not_a_manager", "Not yours.")],
            headers={"X-Why": "test"},
        )

    @router.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    @router.post("/things")
    async def things(body: Body) -> dict[str, str]:
        return {"name": body.name}

    app = api_app()
    app.include_router(router)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://test",
    )


async def test_every_kind_of_error_is_problem_details() -> None:
    async with _client(_demo_app()) as client:
        refused = problem_of(await client.get("/refused"), 409)
        assert (refused["code"], refused["detail"]) == ("conflict", "it was already decided")

        raised = await client.get("/problem")
        problem = problem_of(raised, 403)
        assert problem["code"] == "not_a_manager"
        assert problem["type"].endswith(":not_a_manager")
        assert problem["what_to_do"] == "Ask a manager."
        assert error_locs(raised) == [["path", "practice_id"]]
        assert raised.headers["X-Why"] == "test"

        broken = problem_of(await client.get("/broken"), 500)
        assert "a bug" not in broken["detail"], "internals stay in the log"

        unknown = problem_of(await client.get("/nowhere"), 404)
        assert unknown["code"] == "not_found"
        assert problem_of(await client.delete("/refused"), 405)["code"] == "method_not_allowed"

        invalid = await client.post("/things", json={"name": "x", "nmae": "y"})
        assert problem_of(invalid, 422)["errors"][0]["code"] == "extra_forbidden"
        assert error_locs(invalid) == [["body", "nmae"]]
        missing = await client.post("/things", json={})
        assert error_locs(missing) == [["body", "name"]]
        assert problem_of(missing)["errors"][0]["message"] == "Field required"


async def test_a_described_pattern_is_refused_in_words_and_another_as_pydantic_says() -> None:
    async with _client(_demo_app()) as client:
        late = problem_of(await client.post("/things", json={"name": "x", "opens": "8u30"}), 422)
        assert late["detail"] == "opens must be a time as HH:MM (08:30)"
        assert late["errors"][0]["code"] == "string_pattern_mismatch"
        bare = problem_of(await client.post("/things", json={"name": "x", "code": "A1"}), 422)
        assert bare["detail"] == "String should match pattern '^[a-z]+$'"


def test_a_pattern_cannot_be_described_twice_differently() -> None:
    described(r"^[0-9]{4}$", "four digits")
    assert described(r"^[0-9]{4}$", "four digits") == r"^[0-9]{4}$"
    with pytest.raises(ValueError, match="described twice"):
        described(r"^[0-9]{4}$", "a postcode")


def _patterns(schema: Any, where: str) -> typing.Iterator[tuple[str, str]]:
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            yield where, schema["pattern"]
        for key, value in schema.items():
            yield from _patterns(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for number, value in enumerate(schema):
            yield from _patterns(value, f"{where}[{number}]")


def test_every_pattern_of_the_apis_says_in_words_what_matches(
    components: list[ServiceComponent],
) -> None:
    """A value refused by a bare pattern would be answered with a regular expression."""
    openapi = monolith_app(components).openapi()
    found = list(_patterns(openapi, "openapi"))
    assert len(found) >= 5, found
    bare = [f"{where}: {pattern}" for where, pattern in found if what_matches(pattern) is None]
    assert bare == [], "patterns without words: declare them with servicekit.readable_patterns"


def _models(annotation: Any) -> typing.Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for argument in typing.get_args(annotation):
        yield from _models(argument)


def _body_models(components: list[ServiceComponent]) -> dict[type[BaseModel], str]:
    found: dict[type[BaseModel], str] = {}

    def walk(model: type[BaseModel], where: str) -> None:
        if model in found:
            return
        found[model] = where
        for name, field in model.model_fields.items():
            for nested in _models(field.annotation):
                walk(nested, f"{where}.{name}")

    for component in components:
        for router in component.api_routers():
            for route in router.routes:
                if isinstance(route, APIRoute):
                    for parameter in route.dependant.body_params:
                        for model in _models(parameter.field_info.annotation):
                            walk(model, f"{route.methods} {route.path}")
    return found


def test_every_request_body_refuses_unknown_fields(components: list[ServiceComponent]) -> None:
    models = _body_models(components)
    assert len(models) > 15
    lenient = [
        f"{model.__name__} ({where})"
        for model, where in models.items()
        if model.model_config.get("extra") != "forbid"
        and model.__name__ not in REFUSES_UNKNOWN_FIELDS_ITSELF
    ]
    assert lenient == [], "request bodies that drop unknown fields"


def test_the_openapi_declares_the_bearer_token_where_one_is_needed(
    components: list[ServiceComponent],
) -> None:
    openapi = monolith_app(components).openapi()
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["accessToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["accessToken"]["description"],
    }
    paths = openapi["paths"]
    secured = {"accessToken": []} in paths["/api/fiches/practices"]["post"].get("security", [])
    assert secured
    assert "security" in paths["/api/invitations/practices/{practice_id}/invitations"]["post"]
    assert "security" in paths["/api/fiches/team/requests"]["get"]
    assert "security" not in paths["/api/fiches/providers"]["get"], "public reads need none"
    assert "security" not in paths["/api/fiches/search"]["get"]


async def test_the_api_docs_load_their_files_from_the_app_itself(
    components: list[ServiceComponent],
) -> None:
    for app in (monolith_app(components), api_app("one service")):
        async with _client(app) as client:
            page = await client.get("/docs")
            assert page.status_code == 200
            assert "cdn" not in page.text.lower()
            for asset in ("/docs-static/swagger-ui-bundle.js", "/docs-static/swagger-ui.css"):
                assert asset in page.text
                served = await client.get(asset)
                assert served.status_code == 200 and len(served.content) > 10_000
            redoc = await client.get("/redoc")
            assert "/docs-static/redoc.standalone.js" in redoc.text
            assert "cdn" not in redoc.text.lower()
