"""Error pages: what happened and what to do next, in the visitor's language; never a trace."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException

from portal.adapters.services import ServiceUnavailable
from portal.domain.problems import Problem
from portal.entrypoints.web import CsrfRejected, LoginRequired, render
from portal.handlers.account import ServiceRefused

log = logging.getLogger(__name__)

#: How long a browser waits before retrying a page whose service was down.
RETRY_AFTER_S = 30


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(ServiceUnavailable)
    async def service_down(request: Request, error: Exception) -> Response:
        assert isinstance(error, ServiceUnavailable)
        log.warning("a called service is not available", extra={"service": error.service})
        response = render(request, "service_down.html", status=503, service=error.service)
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    @app.exception_handler(CsrfRejected)
    async def csrf(request: Request, _: Exception) -> Response:
        return render(request, "form_expired.html", status=400)

    @app.exception_handler(LoginRequired)
    async def login(request: Request, _: Exception) -> Response:
        return RedirectResponse(
            "/aanmelden?" + urlencode({"terug": request.url.path}), status_code=303
        )

    @app.exception_handler(ServiceRefused)
    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, ServiceRefused)
        status = error.problem.status if 400 <= error.problem.status < 500 else 400
        return render(request, "problem.html", problem=error.problem, status=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, _: Exception) -> Response:
        return render(request, "problem.html", problem=Problem(422), status=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if error.status_code == 404:
            return render(request, "not_found.html", status=404)
        return render(
            request, "problem.html", problem=Problem(error.status_code), status=error.status_code
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("page failed", extra={"path": request.url.path})
        return render(request, "server_error.html", status=500)
