"""Property-based fuzzing of a service's HTTP API from its own OpenAPI (schemathesis).

Schemathesis generates requests from the schema, valid ones (positive) and ones that
break it (negative); each is sent to the app in-process and must get an answer below
500, and every error must be problem details (servicekit.problems). Hypothesis runs in a
worker thread while the app keeps running in the test's event loop, so the app's
database connections stay in the loop that opened them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from servicekit.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX

#: Generated cases per operation and generation mode: bounded so the fuzzing of all five
#: services on both databases stays within a few minutes of CI on 2 cores.
CASES_PER_OPERATION = 12


#: The development identity provider answers its token endpoint's errors as OAuth 2.0
#: says (RFC 6749 §5.2: `error`, `error_description`), which its clients expect.
OAUTH_PATHS = ("/dev/idp/token",)


@dataclass
class Findings:
    """Server errors and malformed error answers, one line each (with how to replay)."""

    requests: int = 0
    problems: list[str] = field(default_factory=list)


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
    findings = Findings()
    for result in schema.get_all_operations():
        operation = result.ok()
        if "operations" in (operation.tags or ()):
            continue  # /healthz and /readyz: no input, and "not ready" is a 503 by design
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                strategy = operation.as_strategy(generation_mode=mode)
            except Exception as error:  # an operation with no negative cases, say
                findings.problems.append(f"{operation.label} {mode.value}: cannot generate {error}")
                continue
            # A valid token on valid requests, so they get past the login check; the
            # negative cases keep whatever (broken) Authorization header they got.
            headers = dict(auth_headers) if mode is GenerationMode.POSITIVE else {}
            _run(strategy, client, loop, headers, findings, cases)
    return findings


def _run(
    strategy: Any,
    client: httpx.AsyncClient,
    loop: asyncio.AbstractEventLoop,
    headers: dict[str, str],
    findings: Findings,
    cases: int,
) -> None:
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
        request = _httpx_request(case.as_transport_kwargs(base_url="http://test", headers=headers))
        response = asyncio.run_coroutine_threadsafe(client.request(**request), loop).result()
        findings.requests += 1
        complaint = _complaint(response, shape=not case.operation.path.startswith(OAUTH_PATHS))
        if complaint:
            findings.problems.append(
                f"{case.operation.label} -> {response.status_code} {complaint}\n"
                f"    replay: {case.as_curl_command()}\n    answer: {response.text[:300]}"
            )

    # Unsatisfiable: nothing invalid to generate (say, an operation without parameters).
    with contextlib.suppress(Unsatisfiable):
        one()


def _httpx_request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis' transport arguments (requests-style) for httpx."""
    request = {k: kwargs[k] for k in ("method", "url", "headers", "params") if k in kwargs}
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
