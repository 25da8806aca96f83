"""Development-only HTTP view of the local mailbox, so a newcomer can click their links.

Mounted under `/api/notifications/dev/mailbox` only when SKAART_ENVIRONMENT=development
and the embedded SMTP server runs; every request checks the environment again.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from notifications.adapters.dev_mailbox import DevMailbox, StoredMessage, read_message
from servicekit.problems import FieldError, Problem
from servicekit.settings import Environment, PlatformSettings


def _summary(stored: StoredMessage) -> dict[str, Any]:
    return {
        "id": stored.id,
        "subject": stored.subject,
        "to": stored.to,
        "date": str(stored.message["Date"] or ""),
        "language": str(stored.message["Content-Language"] or ""),
    }


def dev_mailbox_router(
    mailbox: DevMailbox, platform: PlatformSettings, prefix: str = "/api/notifications"
) -> APIRouter:
    """List and show the messages the development mailbox received."""
    router = APIRouter(prefix=f"{prefix}/dev/mailbox", tags=["development mailbox"])

    def _refuse_outside_development() -> None:
        if platform.environment is not Environment.DEVELOPMENT:
            raise HTTPException(404, detail="the development mailbox exists only in development")

    def _one(message_id: str) -> StoredMessage:
        stored = read_message(mailbox.folder, message_id)
        if stored is None:
            raise Problem(
                404,
                "message_not_found",
                f"No message {message_id!r} in the development mailbox.",
                what_to_do=f"List the messages at {prefix}/dev/mailbox/messages.",
                errors=[FieldError("path", "message_id", "not_found", "No such message.")],
            )
        return stored

    @router.get("/messages", summary="Messages received (newest first)")
    async def list_messages() -> list[dict[str, Any]]:
        _refuse_outside_development()
        return [_summary(s) for s in reversed(mailbox.stored())]

    @router.get("/messages/{message_id}", summary="One message: headers, parts and links")
    async def show_message(message_id: str) -> dict[str, Any]:
        _refuse_outside_development()
        stored = _one(message_id)
        return {
            **_summary(stored),
            "from": str(stored.message["From"] or ""),
            "text": stored.part("plain"),
            "html": stored.part("html"),
            "links": stored.links(),
        }

    @router.get("", response_class=HTMLResponse, summary="The mailbox as a web page")
    async def mailbox_page() -> HTMLResponse:
        _refuse_outside_development()
        return HTMLResponse(_mailbox_html(mailbox.stored(), prefix))

    @router.get("/{message_id}", response_class=HTMLResponse, summary="One message as a page")
    async def message_page(message_id: str) -> HTMLResponse:
        _refuse_outside_development()
        return HTMLResponse(_message_html(_one(message_id), prefix))

    return router


def _mailbox_html(stored: list[StoredMessage], prefix: str) -> str:
    """Every message, newest first, each linking to its own page."""
    rows = "".join(
        f"<tr><td>{escape(str(s.message['Date'] or ''))}</td><td>{escape(s.to)}</td>"
        f'<td><a href="{prefix}/dev/mailbox/{escape(s.id)}">{escape(s.subject)}</a></td></tr>'
        for s in reversed(stored)
    )
    body = (
        f"<table><tr><th>date</th><th>to</th><th>subject</th></tr>{rows}</table>"
        if rows
        else "<p>No messages yet.</p>"
    )
    return _page("Development mailbox", body)


def _message_html(stored: StoredMessage, prefix: str) -> str:
    """One message: its headers, links, HTML part (sandboxed) and text part."""
    links = "".join(
        f'<li><a href="{escape(link)}">{escape(link)}</a></li>' for link in stored.links()
    )
    body = (
        f'<p><a href="{prefix}/dev/mailbox">← all messages</a></p>'
        f"<h2>{escape(stored.subject)}</h2>"
        f"<p>From: {escape(str(stored.message['From'] or ''))}<br>"
        f"To: {escape(stored.to)}<br>Date: {escape(str(stored.message['Date'] or ''))}</p>"
        f"<h3>Links</h3><ul>{links or '<li>none</li>'}</ul>"
        "<h3>HTML part</h3>"
        f'<iframe sandbox="allow-popups allow-top-navigation-by-user-activation" '
        f'style="width:100%;height:480px;border:1px solid #ccc" '
        f'srcdoc="{escape(stored.part("html"))}"></iframe>'
        f"<h3>Text part</h3><pre>{escape(stored.part('plain'))}</pre>"
    )
    return _page(stored.subject, body)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 8px;"
        "text-align:left}</style></head>"
        f"<body><h1>Development mailbox</h1>{body}</body></html>"
    )
