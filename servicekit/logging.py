"""JSON logs with a correlation id, and a last line of defence against leaking personal data.

Services never log a national register number or an e-mail address on purpose; the
redaction below is there for the message nobody thought about (an exception echoing its
input, say). Kafka client libraries stay at WARNING whatever the root level: at DEBUG
they print whole message values, restricted topics' addresses and links included.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import orjson

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)

# 11 digits, optionally written as YY.MM.DD-XXX.CC.
_NRN_CANDIDATE = re.compile(r"(?<!\d)(\d{2})\.?(\d{2})\.?(\d{2})-?(\d{3})\.?(\d{2})(?!\d)")
REDACTED = "[redacted-nrn]"


def _is_ssin(first9: str, check: str) -> bool:
    # Belgian national register check digits: 97 - (n mod 97), with "2" prefixed
    # to the nine digits for people born in 2000 or later.
    value = int(check)
    return value == 97 - int(first9) % 97 or value == 97 - int("2" + first9) % 97


def redact_national_numbers(text: str) -> str:
    """Replace every 11-digit run with valid national-register check digits."""

    def replace(match: re.Match[str]) -> str:
        digits = "".join(match.groups())
        return REDACTED if _is_ssin(digits[:9], digits[9:]) else match.group(0)

    return _NRN_CANDIDATE.sub(replace, text)


# Deliberately broad: anything shaped like local@domain.tld.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
REDACTED_EMAIL = "[redacted-email]"


def redact_personal_data(text: str) -> str:
    """Redact national register numbers and e-mail addresses from a log text."""
    return _EMAIL.sub(REDACTED_EMAIL, redact_national_numbers(text))


def current_correlation_id() -> str | None:
    """The correlation id of the request, run or message being handled, if any."""
    return _correlation_id.get()


@contextmanager
def correlation_scope(correlation_id: str | None = None) -> Iterator[str]:
    """Tag every log line (and every event published) inside the block with one id."""
    value = correlation_id or uuid.uuid4().hex
    token = _correlation_id.set(value)
    try:
        yield value
    finally:
        _correlation_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id, extras."""

    _RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        correlation_id = current_correlation_id()
        if correlation_id:
            entry["correlation_id"] = correlation_id
        for key, value in record.__dict__.items():
            if key not in self._RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # One pass over the finished line covers the message, the exception and every
        # extra field alike.
        return redact_personal_data(orjson.dumps(entry, default=str).decode())


class ConsoleFormatter(logging.Formatter):
    """Readable lines for a person at a terminal, still redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        return redact_personal_data(super().format(record))


#: Messages that say what the platform chose on purpose, at WARNING: every service turns
#: off topic auto-creation (topics come from contracts/, created by `ensure_topics`), and
#: FastStream warns about it once per consumer group at every start.
_EXPECTED_NOTICES = frozenset({"Auto create topics is disabled. Make sure the topics exist."})


def _without_expected_notices(record: logging.LogRecord) -> bool:
    return not (record.name.startswith("faststream") and record.msg in _EXPECTED_NOTICES)


def adopt_faststream_logger() -> None:
    """Send FastStream's records through the platform's handler (this format, redacted).

    FastStream, when imported, gives its "faststream" logger a coloured handler of its own
    and stops it propagating. Called where brokers are made (FastStream is imported by
    then), so commands that never touch Kafka do not pay for importing it.
    """
    faststream_logger = logging.getLogger("faststream")
    for own in list(faststream_logger.handlers):
        faststream_logger.removeHandler(own)
    faststream_logger.propagate = True


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send every logger's records to stderr in the chosen format (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_skaart", False):
            root.removeHandler(existing)
    handler._skaart = True  # type: ignore[attr-defined]
    handler.addFilter(_without_expected_notices)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Python warnings (libraries' deprecations) go through the same handler, as JSON and
    # redacted, instead of bare lines on stderr that log collectors cannot parse.
    logging.captureWarnings(True)
    # Client libraries are chatty at INFO (every partition assignment, every connect).
    for noisy in ("aiokafka", "faststream", "uvicorn.access", "alembic", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
