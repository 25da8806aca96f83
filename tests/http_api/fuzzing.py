"""Property-based fuzzing of a service's HTTP API from its own OpenAPI (schemathesis).

Three kinds of requests per operation, valid ones (with a valid access token) and ones
that break the schema:

1. schemathesis' coverage cases: deterministic boundaries of every parameter and field
   (minimum - 1, maximum + 1, wrong types, missing required fields, unknown fields);
2. hostile values the schema cannot express: a NUL, a control character and a lone
   surrogate in every text parameter and in the body's strings, numbers past 2^63;
3. random cases (hypothesis), derandomised so every run sends the same requests.

Every answer must be below 500, and every error answer problem details
(servicekit.problems). Generation runs in a worker thread; requests are sent on the
test's event loop, where the app and its database connections live.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err

from servicekit.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX

#: Random cases per operation and generation mode: bounded so the fuzzing of all five
#: services on both databases stays within a few minutes of CI on 2 cores.
CASES_PER_OPERATION = 8

#: The development identity provider answers its token endpoint's errors as OAuth 2.0
#: says (RFC 6749 §5.2: `error`, `error_description`), which its clients expect.
OAUTH_PATHS = ("/dev/idp/token",)

#: FHIR answers errors as an OperationOutcome (`application/fhir+json`), as FHIR clients
#: expect (FHIR R4 http.html); still never a server error.
FHIR_PATHS = ("/fhir",)

#: Paths whose error answers follow their own standard rather than problem details.
OWN_ERROR_SHAPE_PATHS = OAUTH_PATHS + FHIR_PATHS

HOSTILE_TEXT = ("x\x00y", "x\x1by", "\ud800")
HOSTILE_NUMBERS = (2**63, -(2**63) - 1, 10**19)


@dataclass
class Findings:
    """Server errors and malformed error answers, one line each (with how to replay)."""

    requests: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class Target:
    client: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    auth_headers: dict[str, str]
    findings: Findings

    def send(self, case: Any, *, valid: bool, body: Any = None) -> None:
        headers = self.auth_headers if valid else {}
        request = _httpx_request(case.as_transport_kwargs(base_url="http://test", headers=headers))
        if body is not None:
            request.pop("json", None)
            # ASCII-escaped, as a client would send a lone surrogate (UTF-8 cannot carry it).
            request["content"] = json.dumps(body).encode()
            request["headers"] = {**request["headers"], "Content-Type": "application/json"}
        response = asyncio.run_coroutine_threadsafe(
            self.client.request(**request), self.loop
        ).result()
        self.findings.requests += 1
        complaint = _complaint(
            response, shape=not case.operation.path.startswith(OWN_ERROR_SHAPE_PATHS)
        )
        if complaint:
            self.findings.problems.append(
                f"{case.operation.label} -> {response.status_code} {complaint}\n"
                f"    replay: {case.as_curl_command()}"
                + (f" (body {request['content'][:200]!r})" if body is not None else "")
                + f"\n    answer: {response.text[:300]}"
            )


def fuzz(
    openapi: Mapping[str, Any],
    client: httpx.AsyncClient,
    loop: asyncio.AbstractEventLoop,
    *,
    auth_headers: Mapping[str, str],
    cases: int = CASES_PER_OPERATION,
) -> Findings:
    """Fuzz every operation of `openapi` against `client` (call from a worker thread)."""
    schema = schemathesis.openapi.from_dict(dict(openapi))
    target = Target(client, loop, dict(auth_headers), Findings())
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            # An operation schemathesis cannot read is a broken OpenAPI: fail, don't skip it.
            raise result.err()
        operation = result.ok()
        if "operations" in (operation.tags or ()):
            continue  # /healthz and /readyz: no input, and "not ready" is a 503 by design
        _coverage(schema, operation, target)
        _hostile(operation, target)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _random(operation, mode, target, cases)
    return target.findings


def _coverage(schema: Any, operation: Any, target: Target) -> None:
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for case in schema.iter_coverage_cases(
            operation, generation_modes=[mode], generation_config=schema.config.generation
        ):
            # Valid requests carry a valid token, so they get past the login check; the
            # invalid ones keep whatever (broken) Authorization header they got.
            target.send(case, valid=mode is GenerationMode.POSITIVE)


def _hostile(operation: Any, target: Target) -> None:
    """One valid request per hostile value, in each parameter and body string in turn."""
    base = _first_case(operation)
    if base is None:
        return
    for container in ("path_parameters", "query"):
        for name in list(getattr(base, container) or {}):
            for value in (*HOSTILE_TEXT, *HOSTILE_NUMBERS):
                if isinstance(value, str) and "\ud800" in value:
                    continue  # a URL carries UTF-8 only; lone surrogates go in the body
                values = getattr(base, container)
                original, values[name] = values[name], value
                try:
                    target.send(base, valid=True)
                finally:
                    values[name] = original
    if isinstance(base.body, dict | list):
        for path in list(_string_leaves(base.body))[:10]:
            for value in HOSTILE_TEXT:
                target.send(base, valid=True, body=_replaced(base.body, path, value))


def _first_case(operation: Any) -> Any:
    found: list[Any] = []

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(
        max_examples=1,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def first(case: Any) -> None:
        found.append(case)

    with contextlib.suppress(Unsatisfiable):
        first()
    return found[0] if found else None


def _string_leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _string_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_leaves(item, (*path, index))


def _replaced(body: Any, path: tuple[Any, ...], value: str) -> Any:
    changed = copy.deepcopy(body)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def _random(operation: Any, mode: GenerationMode, target: Target, cases: int) -> None:
    try:
        strategy = operation.as_strategy(generation_mode=mode)
    except Exception as error:  # an operation with no negative cases, say
        target.findings.problems.append(f"{operation.label} {mode.value}: cannot generate {error}")
        return

    @given(case=strategy)
    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases on every run: a failure is reproducible
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, don't minimise
        suppress_health_check=list(HealthCheck),
    )
    def one(case: Any) -> None:
        target.send(case, valid=mode is GenerationMode.POSITIVE)

    # Unsatisfiable: nothing invalid to generate (say, an operation without parameters).
    with contextlib.suppress(Unsatisfiable):
        one()


def _httpx_request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis' transport arguments (requests-style) for httpx."""
    request: dict[str, Any] = {
        k: kwargs[k] for k in ("method", "url", "headers", "params") if k in kwargs
    }
    # httpx refuses raw control characters in a URL; a client sends them percent-encoded.
    request["url"] = re.sub(r"[\x00-\x20\x7f]", lambda m: f"%{ord(m.group()):02X}", request["url"])
    if kwargs.get("cookies"):
        request["cookies"] = kwargs["cookies"]
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif "data" in kwargs:
        data = kwargs["data"]
        request["data" if isinstance(data, Mapping) else "content"] = data
    if "files" in kwargs:
        request["files"] = kwargs["files"]
    return request


def _complaint(response: httpx.Response, *, shape: bool = True) -> str | None:
    """What is wrong with an answer, or None."""
    status = response.status_code
    if status >= 500:
        return "server error"
    if status < 400 or not shape:
        return None
    if not response.headers.get("content-type", "").startswith(PROBLEM_MEDIA_TYPE):
        return f"error answered as {response.headers.get('content-type')}, not problem details"
    try:
        body = response.json()
    except json.JSONDecodeError:
        return "problem details that are not JSON"
    missing = {"type", "title", "status", "detail", "code", "what_to_do", "errors"} - set(body)
    if missing:
        return f"problem details without {sorted(missing)}"
    if body["status"] != status or body["type"] != PROBLEM_TYPE_PREFIX + body["code"]:
        return "problem details whose status or type do not match"
    for error in body["errors"]:
        if not {"location", "field", "code", "message"} <= set(error):
            return f"a field error without location, field, code or message: {error}"
    return None
