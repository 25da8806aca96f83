"""The development mailbox: a local SMTP server (aiosmtpd) that keeps every message.

Each accepted message is written as one `.eml` file into a folder under the platform's
data folder (`.skaart/mailbox/`), so `skaart mail list|show` in another terminal, the
development HTTP view and the tests all read the same messages. Development only: it
accepts mail for any address and relays nothing. aiosmtpd comes with the `demo` extra
and is imported when the server starts; reading the mailbox needs only the standard library.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servicekit.extras import import_from_extra

if TYPE_CHECKING:
    from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)

_MESSAGE_ID = re.compile(r"^[0-9A-Za-z_-]{1,80}$")


@dataclass(frozen=True)
class StoredMessage:
    """One message in the mailbox."""

    id: str
    path: Path
    message: EmailMessage

    @property
    def subject(self) -> str:
        """The decoded Subject header."""
        return str(self.message["Subject"] or "")

    @property
    def to(self) -> str:
        """The To header."""
        return str(self.message["To"] or "")

    def part(self, subtype: str) -> str:
        """The text of the `text/<subtype>` part, or an empty string."""
        body = self.message.get_body(preferencelist=(subtype,))
        if body is None or body.get_content_subtype() != subtype:
            return ""
        return str(body.get_content())

    def links(self) -> list[str]:
        """Every http(s) link in the text part, in order, without repeats."""
        seen: dict[str, None] = {}
        for link in re.findall(r"https?://[^\s<>\"']+", self.part("plain")):
            seen.setdefault(link, None)
        return list(seen)


def read_mailbox(folder: Path) -> list[StoredMessage]:
    """Every message in the folder, oldest first."""
    if not folder.is_dir():
        return []
    return [_read(path) for path in sorted(folder.glob("*.eml"))]


def read_message(folder: Path, message_id: str) -> StoredMessage | None:
    """One message by id (its file name without `.eml`), or None."""
    if not _MESSAGE_ID.match(message_id):
        return None
    path = folder / f"{message_id}.eml"
    return _read(path) if path.is_file() else None


def _read(path: Path) -> StoredMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return StoredMessage(id=path.stem, path=path, message=parsed)


class _KeepEveryMessage:
    """aiosmtpd handler: write each message to the folder; optionally refuse recipients.

    The upper-case method names are aiosmtpd's hook names.
    """

    def __init__(self, folder: Path, refuse_recipients: frozenset[str]) -> None:
        self._folder = folder
        self._refuse = refuse_recipients

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.lower() in self._refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        data = content if isinstance(content, bytes) else content.encode()
        self._folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{uuid.uuid4().hex[:8]}"
        temporary = self._folder / f".{name}.tmp"
        temporary.write_bytes(data)
        # Readers see a whole file or none.
        os.replace(temporary, self._folder / f"{name}.eml")
        return "250 Message accepted for delivery"


class LocalSmtpServer:
    """aiosmtpd on a loopback port, in the running event loop."""

    def __init__(
        self,
        folder: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        refuse_recipients: frozenset[str] = frozenset(),
    ) -> None:
        self.folder = folder
        self.host = host
        self._requested_port = port
        self._handler = _KeepEveryMessage(folder, frozenset(a.lower() for a in refuse_recipients))
        self._server: asyncio.Server | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Listen (on a free port unless one was given)."""
        # Imported here: aiosmtpd comes with the `demo` extra, which production lacks.
        smtp = import_from_extra(
            "aiosmtpd.smtp",
            extra="demo",
            needed_for="the development mailbox",
            otherwise="set NOTIFICATIONS_SMTP_HOST to an SMTP relay",
        )
        # aiosmtpd logs every SMTP command line at debug level, addresses included.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.folder.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: smtp.SMTP(self._handler, hostname="mailbox.skaart.local", loop=loop),
            host=self.host,
            port=self._requested_port,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("development mailbox listening", extra={"smtp_port": self.port})

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


class DevMailbox:
    """The development mailbox of one notifications component: its server and its folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = LocalSmtpServer(folder)
        self.ready = asyncio.Event()

    @property
    def port(self) -> int | None:
        """The SMTP port, once the server runs."""
        return self.server.port

    def messages(self) -> list[EmailMessage]:
        """Every message received, parsed, oldest first."""
        return [stored.message for stored in read_mailbox(self.folder)]

    def stored(self) -> list[StoredMessage]:
        """Every message received, with its id and file."""
        return read_mailbox(self.folder)

    async def run(self) -> None:
        """Background loop: run the server while the component runs."""
        await self.server.start()
        self.ready.set()
        try:
            await asyncio.Event().wait()
        finally:
            self.ready.clear()
            await self.server.stop()
