"""Reading the source's HTTP delta feed one page at a time (SOURCE-FORMAT.md).

`GET {base}/changes?since={cursor}&limit={n}` answers
`{"changes": [<snapshot line>, …], "next_cursor": "…", "has_more": true|false}`.
`DeltaFeedClient.fetch_page` asks for one page and validates every change with the same
rules as a snapshot line (`parse_record`); what to do with invalid changes (refuse the
page or skip them) is the caller's decision (`handlers/pull_changes.py`).

Failures that may pass by themselves (connection errors, time-outs, HTTP 5xx and 429) are
retried with exponential backoff, a bounded number of times. Failures that will not
(other 4xx, a body that is not the documented page) raise at once. Every error says what
failed, at which URL, and what to do next; none repeats a national register number.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from registry_sync.adapters.snapshot_files import LineError, parse_record
from registry_sync.domain.source_limits import MAX_FEED_PAGE_BYTES
from registry_sync.domain.source_record import SourceProfessional
from servicekit.logging import redact_national_numbers

log = logging.getLogger(__name__)

PAGE_SHAPE = '{"changes": [...], "next_cursor": "...", "has_more": true|false}'


class FeedError(Exception):
    """The delta feed could not be read; the message says what, where and what next."""


class FeedUnavailable(FeedError):
    """No usable answer after every attempt (connection errors, time-outs, 5xx)."""


class FeedRefused(FeedError):
    """The source refused the request (HTTP 4xx); asking again will not help."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class FeedInvalid(FeedError):
    """The source answered, but not with a page of the documented shape."""


@dataclass(frozen=True)
class ChangeError(LineError):
    """One invalid change: its position in the page after `cursor`, the field, the problem.

    A LineError, so a run records it among its rejected lines; `line` is the change's
    position (from 1) within its page.
    """

    cursor: str | None = None

    def __str__(self) -> str:
        return (
            f"change {self.line} after cursor {describe_cursor(self.cursor)}, "
            f"field {self.field}: {self.problem}"
        )


def describe_cursor(cursor: str | None) -> str:
    """A cursor as messages show it."""
    return "(start of the feed)" if cursor is None else repr(cursor)


@dataclass(frozen=True)
class FeedPage:
    """One page of the feed, its changes validated."""

    since: str | None
    """The cursor this page was asked for (None: from the start)."""
    next_cursor: str
    has_more: bool
    size: int
    """Changes in the page, valid or not."""
    records: tuple[SourceProfessional, ...]
    """The valid changes, in feed order."""
    invalid: int
    """Changes that failed validation."""
    errors: tuple[ChangeError, ...]
    """What is wrong with the invalid changes (possibly several per change)."""


class _PageBody(BaseModel):
    # Strict: a cursor that is a number, or `has_more` as "false", is a source bug to report,
    # not something to guess at.
    model_config = ConfigDict(extra="ignore", strict=True)

    changes: list[Any]
    next_cursor: str
    has_more: bool


def display_url(url: str | httpx.URL) -> str:
    """A URL as it may be shown and stored: without credentials, without a trailing slash."""
    parsed = httpx.URL(str(url))
    if parsed.userinfo:
        parsed = parsed.copy_with(userinfo=b"")
    return str(parsed).rstrip("/")


class DeltaFeedClient:
    """An HTTP client of one delta feed (`base_url` is the feed's base, without /changes)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 10.0,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_page_bytes: int = MAX_FEED_PAGE_BYTES,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.feed_url = display_url(base_url)
        """The feed's URL without credentials: how runs and cursors name it."""
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_page_bytes = max_page_bytes
        """A page body longer than this is refused before it is parsed."""
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            timeout=timeout_s,
            transport=transport,
            follow_redirects=True,
            headers={"Accept": "application/json"},
        )

    async def __aenter__(self) -> DeltaFeedClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()

    @property
    def is_closed(self) -> bool:
        """Whether aclose() has run."""
        return self._client.is_closed

    async def fetch_page(self, since: str | None, limit: int) -> FeedPage:
        """Fetch and validate the page after `since` (None: from the start of the feed).

        Raises FeedUnavailable after `max_attempts` failed attempts, FeedRefused on a 4xx
        answer (429 excepted, it is retried) and FeedInvalid when the body is not a page.
        """
        params = {"limit": str(limit)} if since is None else {"since": since, "limit": str(limit)}
        url = f"{self.base_url}/changes"
        shown = display_url(httpx.URL(url, params=params))
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            # backoff_s, doubling per attempt, at most max_backoff_s; no jitter: one
            # client per source, and a test can name the delays.
            wait=wait_exponential(multiplier=self.backoff_s, max=self.max_backoff_s),
            retry=retry_if_exception_type(_MayPass),
            sleep=self._sleep,
            before_sleep=lambda state: self._log_retry(shown, state),
            reraise=True,
        )
        try:
            return await retrying(self._fetch_once, url, params, shown, since)
        except _MayPass as last:
            raise FeedUnavailable(
                f"Delta feed {shown}: no usable answer after {self.max_attempts} attempt(s); "
                f"the last one failed with: {last}. Nothing of this page was applied and the "
                "cursor has not moved, so the next pull asks for the same page. Check that the "
                "source is up and reachable from this host; if it is only slow, raise "
                f"REGISTRY_SYNC_FEED_TIMEOUT_S (now {self.timeout_s:g}) or "
                f"REGISTRY_SYNC_FEED_MAX_ATTEMPTS (now {self.max_attempts})."
            ) from None

    async def _fetch_once(
        self, url: str, params: dict[str, str], shown: str, since: str | None
    ) -> FeedPage:
        """One attempt: the page, or _MayPass for a failure that may pass by itself."""
        try:
            async with self._client.stream("GET", url, params=params) as response:
                body = await _bounded_body(shown, response, self.max_page_bytes)
        except httpx.TimeoutException:
            raise _MayPass(f"no answer within {self.timeout_s:g}s") from None
        except httpx.TransportError as error:
            raise _MayPass(f"{type(error).__name__}: {error}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise _MayPass(f"HTTP {response.status_code} {response.reason_phrase}")
        if response.status_code >= 400:
            raise FeedRefused(_refusal(shown, response, body), response.status_code)
        return _page(shown, since, response.status_code, body)

    def _log_retry(self, shown: str, state: RetryCallState) -> None:
        problem = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "delta feed %s: attempt %d of %d failed (%s); retrying in %.1fs",
            shown,
            state.attempt_number,
            self.max_attempts,
            problem,
            delay,
        )


class _MayPass(Exception):
    """An attempt failed in a way that may pass by itself: retried (message: what failed)."""


async def _bounded_body(shown: str, response: httpx.Response, max_bytes: int) -> bytes:
    """The response body, read only up to `max_bytes`: a larger page is refused unread."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FeedInvalid(
                f"Delta feed {shown} answered a page of more than {max_bytes:,} bytes; it was "
                "not read, nothing was applied and the cursor has not moved. Ask for smaller "
                "pages (lower REGISTRY_SYNC_FEED_PAGE_SIZE); if one change alone is that "
                "large, report it to the source's operators."
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(shown: str, response: httpx.Response, content: bytes) -> str:
    status = response.status_code
    # The body may help the operator, but it is the source's text: keep it short and
    # never let a national register number through.
    text = content[:4096].decode("utf-8", errors="replace")
    body = redact_national_numbers(" ".join(text.split()))[:300]
    if status in (401, 403):
        advice = (
            "The source does not let this platform in: check the credentials in "
            "REGISTRY_SYNC_FEED_URL and that this host may reach the feed."
        )
    elif status == 404:
        advice = (
            "Nothing answers at that path: REGISTRY_SYNC_FEED_URL must be the feed's base "
            "URL, without /changes."
        )
    elif status in (400, 409, 410, 422):
        advice = (
            "The source does not accept the cursor or the page size. Check "
            "REGISTRY_SYNC_FEED_PAGE_SIZE; if the source has reset its change log, ask its "
            "operators where to resume (registry-sync keeps the cursor in its feed_cursors "
            "table)."
        )
    else:
        advice = "Check the request against the source's documentation of the feed."
    return (
        f"Delta feed {shown} refused the request: HTTP {status} {response.reason_phrase}"
        + (f" ({body})" if body else "")
        + f". Nothing was applied and the cursor has not moved. {advice}"
    )


def _invalid(shown: str, status: int, problem: str) -> FeedInvalid:
    return FeedInvalid(
        f"Delta feed {shown} answered HTTP {status} with something other than a page of "
        f"changes: {problem}. Expected {PAGE_SHAPE} (SOURCE-FORMAT.md). Nothing was applied "
        "and the cursor has not moved. Check that REGISTRY_SYNC_FEED_URL is the feed's base "
        "URL; if it is, report this answer to the source's operators."
    )


def _page(shown: str, since: str | None, status: int, content: bytes) -> FeedPage:
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise _invalid(shown, status, f"not JSON ({error})") from None
    try:
        body = _PageBody.model_validate(data)
    except ValidationError as error:
        fields = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc']) or '(body)'}: {detail['msg']}"
            for detail in error.errors(include_input=False, include_url=False)
        )
        raise _invalid(shown, status, fields) from None
    records: list[SourceProfessional] = []
    errors: list[ChangeError] = []
    invalid = 0
    for number, change in enumerate(body.changes, start=1):
        parsed = parse_record(number, change)
        if parsed.record is None:
            invalid += 1
            errors.extend(
                ChangeError(error.line, error.field, error.problem, cursor=since)
                for error in parsed.errors
            )
        else:
            records.append(parsed.record)
    return FeedPage(
        since=since,
        next_cursor=body.next_cursor,
        has_more=body.has_more,
        size=len(body.changes),
        records=tuple(records),
        invalid=invalid,
        errors=tuple(errors),
    )
