"""Routes of the public reads: answered from the response cache, retried after a dropped
connection, their usual query parameters read without FastAPI's validation.

The cache is consulted before FastAPI parses and validates the query: a URL is only ever
cached after it was answered 200, so the same URL would pass the same validation again.
An endpoint registered with `query_parameters.direct` is called with the values its
readers accepted; a query they are not sure of goes through FastAPI as before.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from directory.adapters.read_engine import retry_once_on_disconnect
from directory.adapters.response_cache import ResponseCache
from directory.entrypoints.negotiation import varies_by_headers
from directory.entrypoints.query_parameters import direct_arguments, direct_of


def cached_route_class(cache: ResponseCache | None) -> type[APIRoute]:
    """A route class whose GETs go through `cache` (None: no cache, retry only)."""

    class PublicReadRoute(APIRoute):
        response_cache = cache

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handle = super().get_route_handler()
            endpoint = self.endpoint
            how = direct_of(endpoint)

            async def answer(request: Request) -> Response:
                async def compute() -> Response:
                    arguments = direct_arguments(request, how) if how else None
                    if arguments is not None:
                        return await retry_once_on_disconnect(lambda: endpoint(**arguments))
                    return await retry_once_on_disconnect(lambda: handle(request))

                # An answer a header changes (lenient FHIR, an Accept without JSON) is
                # neither served from the cache nor kept in it, where a client asking the
                # same URL without that header would get it.
                if cache is None or request.method != "GET" or varies_by_headers(request.headers):
                    return await compute()
                return await cache.respond(str(request.url), compute)

            return answer

    return PublicReadRoute
