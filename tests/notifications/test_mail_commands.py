"""`skaart mail list|show` read the development mailbox folder the local SMTP server fills."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from notifications.adapters.dev_mailbox import LocalSmtpServer
from notifications.adapters.rendering import TemplateRenderer, build_message
from notifications.adapters.smtp import SmtpTarget, send_message
from notifications.domain.deliveries import TemplateName
from skaart.cli import _register_subcommands, app
from skaart.mail_commands import mail_app

LINK = "https://skaart.test/activate?token=abc123"


async def _deliver(folder: Path, language: str) -> None:
    server = LocalSmtpServer(folder)
    await server.start()
    try:
        assert server.port is not None
        rendered = TemplateRenderer().render(
            TemplateName.EMAIL_VERIFICATION,
            language,
            {"display_name": "Ann", "activation_url": LINK, "expires_at": "2026-12-01T12:00:00"},
        )
        message = build_message(
            rendered,
            sender="no-reply@x.test",
            recipient="ann@example.org",
            language=language,
            message_id=f"m-{language}",
        )
        await send_message(
            message, SmtpTarget("127.0.0.1", server.port, tls="none"), envelope_from="a@x.test"
        )
    finally:
        await server.stop()


async def test_list_and_show_read_the_mailbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKAART_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKAART_ENVIRONMENT", "development")
    monkeypatch.setenv("COLUMNS", "200")  # no wrapping of the table asserted on
    # `skaart mail` is registered on the root command; invoking the group itself keeps
    # the root callback from pointing the process's logging at the runner's stream.
    _register_subcommands()  # as `main` does
    assert "mail" in [group.name for group in app.registered_groups]
    runner = CliRunner()
    empty = runner.invoke(mail_app, ["list"])
    assert empty.exit_code == 0 and "skaart up" in empty.output

    await _deliver(tmp_path / "mailbox", "nl")
    await _deliver(tmp_path / "mailbox", "en")
    listed = runner.invoke(mail_app, ["list"])
    assert listed.exit_code == 0, listed.output
    assert "Confirm your e-mail address" in listed.output
    assert "Bevestig je e-mailadres" in listed.output
    assert listed.output.index("Confirm") < listed.output.index("Bevestig"), "newest first"

    shown = runner.invoke(mail_app, ["show", "last"])
    assert shown.exit_code == 0, shown.output
    assert "Subject: Confirm your e-mail address" in shown.output
    assert f"  {LINK}" in shown.output
    html = runner.invoke(mail_app, ["show", "last", "--html"])
    assert f'href="{LINK}"' in html.output

    missing = runner.invoke(mail_app, ["show", "nope"])
    assert missing.exit_code == 1 and "skaart mail list" in missing.output


def test_the_mailbox_commands_refuse_outside_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKAART_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKAART_ENVIRONMENT", "production")
    result = CliRunner().invoke(mail_app, ["list"])
    assert result.exit_code == 2 and "only in development" in result.output
