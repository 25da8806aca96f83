"""The log formatters redact national register numbers and e-mail addresses."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from servicekit.logging import ConsoleFormatter, JsonFormatter, redact_personal_data


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"msg": message, "levelno": logging.INFO, "name": "t"})
    record.__dict__.update(extra)
    return record


def test_addresses_and_national_numbers_are_redacted_in_json_lines() -> None:
    line = JsonFormatter().format(
        _record("mail to Jan.Peeters+work@example.be failed", recipient="an@zorg.vlaanderen.be")
    )
    entry = json.loads(line)
    assert "example.be" not in line and "zorg.vlaanderen" not in line
    assert entry["message"] == "mail to [redacted-email] failed"
    assert entry["recipient"] == "[redacted-email]"


def test_console_lines_are_redacted_too() -> None:
    line = ConsoleFormatter().format(_record("person 85.07.30-033.28 wrote from x@y.org"))
    assert "033" not in line and "x@y.org" not in line


def test_innocent_text_is_left_alone() -> None:
    text = "consumer group fiches@v1 handled 12 events in 0.3 s (version 1.2.3)"
    assert redact_personal_data(text) == text


def _output_lines_of(script: str) -> list[str]:
    """What a fresh interpreter running `script` prints (stdout, then stderr), by line:
    logging is configured once per process, so each case gets its own."""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return (done.stdout + done.stderr).strip().splitlines()


def test_a_library_warning_becomes_a_redacted_json_line() -> None:
    script = (
        "import warnings\n"
        "from servicekit.logging import configure_logging\n"
        "configure_logging()\n"
        "warnings.warn('deprecated option, reported by jan@example.be', UserWarning)\n"
    )
    (line,) = _output_lines_of(script)
    entry = json.loads(line)
    assert entry["logger"] == "py.warnings"
    assert "deprecated option" in entry["message"] and "example.be" not in line


def test_faststream_records_become_json_lines_too() -> None:
    script = (
        "import logging\n"
        "from servicekit.logging import configure_logging\n"
        "from servicekit.messaging.subscribers import create_broker\n"
        "from servicekit.settings import KafkaSettings\n"
        "configure_logging()\n"
        # As a service starts (the broker is made, not connected).
        "create_broker(KafkaSettings(bootstrap_servers='127.0.0.1:1'), client_id='fiches')\n"
        "logging.getLogger('faststream.fiches').warning('Consumer stopped unexpectedly.')\n"
        # What the platform chose on purpose is not reported as a warning.
        "logging.getLogger('faststream.fiches').warning(\n"
        "    'Auto create topics is disabled. Make sure the topics exist.')\n"
    )
    (line,) = _output_lines_of(script)
    entry = json.loads(line)
    assert entry["logger"] == "faststream.fiches"
    assert entry["message"] == "Consumer stopped unexpectedly."
