"""The log formatters redact national register numbers and e-mail addresses."""

from __future__ import annotations

import json
import logging

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
