"""Templates to messages: subject, plain text and HTML, in the recipient's language.

Each template is a folder under `notifications/templates/` with, per language, a
`<lang>.txt` (blocks `subject` and `text`) and a `<lang>.html` (extends `layout.html`,
block `content`). The HTML environment escapes every value; the text environment does
not (the text part is `text/plain`, never interpreted). In both, names and comments
people typed are first made quoted data (`notifications.domain.user_text`).
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import jinja2
from markupsafe import Markup

from contracts.profession_labels import profession_label
from notifications.domain import user_text
from notifications.domain.deliveries import LANGUAGES, TemplateName, language_of

try:
    from zoneinfo import ZoneInfo

    _BRUSSELS: Any = ZoneInfo("Europe/Brussels")
except Exception:  # pragma: no cover - a system without time zone data
    _BRUSSELS = UTC


@dataclass(frozen=True)
class RenderedMessage:
    """A message's three parts."""

    subject: str
    text: str
    html: str


class TemplateError(ValueError):
    """A template is missing or cannot be rendered with the values it was given."""


def _when(value: Any) -> str:
    """A moment as people in Belgium read it: 28/11/2026 19:00."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_BRUSSELS).strftime("%d/%m/%Y %H:%M")


def _capitalize_first(value: Any) -> Any:
    """Upper-case the first letter only (Jinja's `capitalize` lowers the rest)."""
    text = str(value)
    result = text[:1].upper() + text[1:]
    # Already-escaped macro output stays marked safe; escaping it again would show &amp;.
    return Markup(result) if isinstance(value, Markup) else result  # noqa: S704


def _environment(*, html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("notifications", "templates"),
        # Off only for the subject and text/plain part, which nothing interprets as HTML.
        autoescape=html,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["when"] = _when
    env.filters["capitalize_first"] = _capitalize_first
    return env


class TemplateRenderer:
    """Renders a template in nl, fr or en (Dutch when the language is unknown)."""

    def __init__(self, portal_url: str = "") -> None:
        self._text = _environment(html=False)
        self._html = _environment(html=True)
        # The public address of the web portal: mails link to its pages (never to an API),
        # e.g. `{{ portal_url }}/mijn-aanvragen`. Empty: the templates leave the link out.
        self._portal_url = portal_url.rstrip("/")

    def render(
        self, template: str | TemplateName, language: str | None, values: Mapping[str, Any]
    ) -> RenderedMessage:
        """The subject, text and HTML of `template` for `values`."""
        name = TemplateName(template).value
        lang = language_of(language)
        if values.get("profession"):  # a code on the event; people read its label
            values = {**values, "profession": profession_label(values["profession"], lang)}
        # What users typed is shown as quoted data (notifications.domain.user_text).
        links = {"language": lang, "portal_url": self._portal_url}
        text_context = {**user_text.for_text(values), **links}
        html_context = {**user_text.for_html(values), **links}
        try:
            text_template = self._text.get_template(f"{name}/{lang}.txt")
            subject = _render_block(text_template, "subject", text_context)
            text = _render_block(text_template, "text", text_context)
            html = self._html.get_template(f"{name}/{lang}.html").render(html_context)
        except jinja2.TemplateError as error:
            raise TemplateError(f"template {name}/{lang}: {error}") from error
        # A header is one line: a newline in a value must not start a new header.
        subject = " ".join(subject.split())
        return RenderedMessage(subject=subject, text=text.strip() + "\n", html=html)


def _render_block(template: jinja2.Template, block: str, context: Mapping[str, Any]) -> str:
    if block not in template.blocks:
        raise TemplateError(f"{template.name} has no block {block!r}")
    return "".join(template.blocks[block](template.new_context(dict(context))))


def build_message(
    rendered: RenderedMessage,
    *,
    sender: str,
    recipient: str,
    language: str,
    message_id: str,
) -> EmailMessage:
    """A multipart/alternative message: the text part first, the HTML part preferred."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    # The same id on a resend after a crash lets mail clients fold the two together.
    message["Message-ID"] = f"<{message_id}@notifications.socialekaart>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    # After the parts: set_content drops every Content-* header set before it.
    message["Content-Language"] = language
    return message


__all__ = [
    "LANGUAGES",
    "RenderedMessage",
    "TemplateError",
    "TemplateRenderer",
    "build_message",
]
