"""Exports of the fiches a user manages, produced in the background, fetched by signed link.

A user asks for an export; a row is stored as `pending`. The export worker (a background
loop of the service) picks pending rows up, writes the CSV and JSON of every fiche the
user manages (the practices where they are a manager, and their own provider fiche if
they are a professional), stores them, and in the same transaction queues `ExportReady`
on the restricted topic fiches.exports.v1: notifications mails the link.

The link is `<public base URL>/api/fiches/exports/<id>/download?expires=<unix time>
&signature=<HMAC-SHA256>`: built from the configured public URL, never from a request's
Host header; the signature covers the export id and the expiry, so neither can be
changed; it is compared in constant time. The link itself is never logged.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import hmac
import io
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events.fiches import ExportReady
from fiches.adapters.export_queries import managed_fiches
from fiches.adapters.export_store import ExportStore
from fiches.config import ExportSettings
from servicekit.database import as_utc, is_sqlite
from servicekit.logging import correlation_scope, current_correlation_id
from servicekit.runtime import ServiceRuntime
from servicekit.settings import Environment, PlatformSettings
from servicekit.waiting import wait_until_set

log = logging.getLogger(__name__)


#: The mailed link opens the portal's download page (a page, never an API address); the
#: page fetches the files from `/api/fiches/exports/{id}/download` with the same expiry and
#: signature.
DOWNLOAD_PAGE_PATH = "/exports/{export_id}/downloaden"

FORMATS = ("csv", "json")

CSV_COLUMNS = (
    "fiche_type",
    "fiche_id",
    "name",
    "published",
    "revision",
    "professions",
    "street",
    "number",
    "box",
    "postcode",
    "municipality",
    "phone",
    "email",
    "website",
    "target_groups",
    "age_categories",
    "wijken",
    "extra_offer",
    "languages",
    "offers",
)


class LinkRefused(Exception):
    """A download link that does not open: `status` 403 (tampered) or 410 (expired)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ExportNotFound(Exception):
    """No export with that id belongs to the caller."""


class TooManyExports(Exception):
    """The caller asked for their daily number of exports; `retry_at` is when one frees up."""

    def __init__(self, limit: int, retry_at: datetime) -> None:
        super().__init__(
            f"you asked for {limit} exports in the last 24 hours, the most allowed; "
            f"the next one can be asked for from {retry_at:%Y-%m-%d %H:%M} UTC. "
            "The link of a ready export stays valid: check your e-mail."
        )
        self.limit = limit
        self.retry_at = retry_at


class ExportWorker:
    """Accepts export requests, produces them in the background, opens signed links."""

    def __init__(
        self, runtime: ServiceRuntime, settings: ExportSettings, platform: PlatformSettings
    ) -> None:
        if platform.environment is Environment.PRODUCTION:
            problems = settings.production_problems()
            if problems:
                raise RuntimeError("fiches exports refuse to start: " + "; ".join(problems))
        self._runtime = runtime
        self._settings = settings
        self._key = settings.signing_key.get_secret_value().encode()
        self._wake = asyncio.Event()
        self._skip_locked = not is_sqlite(runtime.database_url)

    # Requests --------------------------------------------------------------------------

    async def request(
        self, *, user_id: str, professional_id: str | None, formats: Sequence[str]
    ) -> dict[str, Any]:
        """Store a pending export for the caller; the worker produces it shortly.

        Raises TooManyExports past `max_per_user_per_day` in the last 24 hours. Two
        requests racing past the limit at once can both pass: it bounds work, it is not
        an exact quota.
        """
        export_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        async with self._runtime.sessions() as session, session.begin():
            await self._refuse_over_daily_limit(session, user_id, now)
            await ExportStore(session).add_pending(
                export_id=export_id,
                user_id=user_id,
                professional_id=professional_id,
                formats=list(dict.fromkeys(formats)),
                requested_at=now,
                correlation_id=current_correlation_id(),
            )
        self._wake.set()
        return {"export_id": export_id, "status": "pending", "requested_at": now}

    async def _refuse_over_daily_limit(
        self, session: AsyncSession, user_id: str, now: datetime
    ) -> None:
        limit = self._settings.max_per_user_per_day
        recent = await ExportStore(session).recent_request_times(user_id, now, limit)
        if len(recent) >= limit:
            raise TooManyExports(limit, as_utc(min(recent)) + timedelta(days=1))

    async def mine(self, *, user_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The caller's own exports, newest first (never their links: those go by e-mail)."""
        async with self._runtime.sessions() as session:
            return await ExportStore(session).states_of(user_id, limit)

    async def status(self, *, user_id: str, export_id: str) -> dict[str, Any]:
        """The caller's own export (never the link: that goes by e-mail only)."""
        async with self._runtime.sessions() as session:
            state = await ExportStore(session).state(user_id, export_id)
        if state is None:
            raise ExportNotFound(export_id)
        return state

    # Background ------------------------------------------------------------------------

    async def run(self) -> None:
        """Produce pending exports until cancelled (ServiceRuntime.run_in_background)."""
        while True:
            try:
                while await self.produce_pending():
                    pass
                await self.forget_expired()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("export round failed; trying again at the next round")
            self._wake.clear()
            await wait_until_set(self._wake, self._settings.poll_interval_s)

    async def produce_pending(self) -> int:
        """Produce up to one batch of pending exports; returns how many were produced."""
        produced = 0
        async with self._runtime.sessions() as session, session.begin():
            # On PostgreSQL two replicas never produce the same export (SKIP LOCKED).
            export_ids = await ExportStore(session).pending_ids(
                self._settings.batch_size, skip_locked=self._skip_locked
            )
            for export_id in export_ids:
                await self._produce(session, export_id)
                produced += 1
        if produced:
            self._runtime.outbox.notify_committed()
        return produced

    async def _produce(self, session: AsyncSession, export_id: str) -> None:
        store = ExportStore(session)
        row = await store.get(export_id)
        assert row is not None
        # In the request's correlation scope: its ExportReady event, the e-mail that
        # follows and these log lines carry the id the requester was answered with.
        with correlation_scope(row.correlation_id):
            fiches = await managed_fiches(session, row.user_id, row.professional_id)
            now = datetime.now(UTC)
            expires_at = (now + timedelta(seconds=self._settings.link_ttl_s)).replace(microsecond=0)
            formats = tuple(row.formats)
            await store.mark_ready(
                export_id,
                ready_at=now,
                expires_at=expires_at,
                csv_content=render_csv(fiches) if "csv" in formats else None,
                json_content=render_json(fiches, now) if "json" in formats else None,
                fiche_count=len(fiches),
            )
            await self._runtime.outbox.add(
                session,
                ExportReady(
                    export_id=export_id,
                    user_id=row.user_id,
                    formats=formats,
                    download_url=self.download_url(export_id, expires_at),
                    expires_at=expires_at,
                    occurred_at=now,
                ),
            )
            log.info(
                "export produced",
                extra={"export_id": export_id, "fiches": len(fiches), "formats": list(formats)},
            )

    async def forget_expired(self) -> int:
        """Drop the files of exports whose link has lapsed (the row stays, as a record)."""
        async with self._runtime.sessions() as session, session.begin():
            return await ExportStore(session).forget_expired()

    # Links -----------------------------------------------------------------------------

    def signature(self, export_id: str, expires: int) -> str:
        mac = hmac.new(self._key, f"fiches-export:{export_id}:{expires}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def download_url(self, export_id: str, expires_at: datetime) -> str:
        expires = int(expires_at.timestamp())
        base = self._settings.public_base_url.rstrip("/")
        page = DOWNLOAD_PAGE_PATH.format(export_id=export_id)
        return f"{base}{page}?expires={expires}&signature={self.signature(export_id, expires)}"

    async def open_link(
        self, export_id: str, expires: int, signature: str, fmt: str | None
    ) -> tuple[str, str]:
        """(format, content) behind a signed link, or LinkRefused saying why not."""
        expected = self.signature(export_id, expires)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise LinkRefused(
                403,
                "this download link is not valid (it was changed or is incomplete); use the "
                "link from the e-mail exactly as sent, or ask for a new export",
            )
        if datetime.now(UTC).timestamp() >= expires:
            raise LinkRefused(
                410, "this download link has expired; ask for a new export of your fiches"
            )
        async with self._runtime.sessions() as session:
            row = await ExportStore(session).get(export_id)
        if row is None or row.status != "ready":
            raise LinkRefused(
                410, "this export is no longer available; ask for a new export of your fiches"
            )
        formats = list(row.formats)
        chosen = fmt or formats[0]
        if chosen not in formats:
            raise LinkRefused(
                404, f"this export has no {chosen} file; it has: {', '.join(formats)}"
            )
        content = row.csv_content if chosen == "csv" else row.json_content
        return chosen, str(content or "")


# --- The files ---------------------------------------------------------------------------


def _preferred(items: Any) -> dict[str, Any]:
    values = [i for i in items or [] if isinstance(i, dict)]
    return next((i for i in values if i.get("preferred")), values[0] if values else {})


def _joined(values: Any) -> str:
    return "; ".join(str(v) for v in values or [])


def render_csv(fiches: Sequence[dict[str, Any]]) -> str:
    """One line per fiche, preferred values only (the JSON has every value)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for fiche in fiches:
        data = fiche.get("data") or {}
        address = _preferred(data.get("addresses"))
        writer.writerow(
            {
                "fiche_type": fiche["fiche_type"],
                "fiche_id": fiche["fiche_id"],
                "name": _safe_cell(fiche["name"]),
                "published": "yes" if fiche["published"] else "no",
                "revision": fiche["revision"],
                "professions": _joined(fiche.get("professions")),
                "street": _safe_cell(address.get("street", "")),
                "number": _safe_cell(address.get("number", "")),
                "box": _safe_cell(address.get("box") or ""),
                "postcode": address.get("postcode", ""),
                "municipality": _safe_cell(address.get("municipality", "")),
                "phone": _preferred(data.get("phone_numbers")).get("number", ""),
                "email": _safe_cell(_preferred(data.get("email_addresses")).get("email", "")),
                "website": _safe_cell(_preferred(data.get("websites")).get("url", "")),
                "target_groups": _safe_cell(_joined(data.get("target_groups"))),
                "age_categories": _joined(data.get("age_categories")),
                "wijken": _safe_cell(_joined(data.get("wijken"))),
                "extra_offer": _safe_cell(_joined(data.get("extra_offer"))),
                "languages": _joined(data.get("languages")),
                "offers": _joined(
                    f"{o['profession']}:{o['provider_fiche_id']}" for o in fiche.get("offers", [])
                ),
            }
        )
    return out.getvalue()


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it as text.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


def render_json(fiches: Sequence[dict[str, Any]], produced_at: datetime) -> str:
    return orjson.dumps(
        {"produced_at": produced_at, "fiches": list(fiches)}, option=orjson.OPT_INDENT_2
    ).decode()
