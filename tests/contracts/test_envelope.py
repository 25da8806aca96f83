"""The CloudEvents envelope survives a trip through Kafka headers, and bad headers are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema
import pytest

from contracts.envelope import SPEC_VERSION, Envelope
from contracts.generate import cloudevents_headers_schema


def _envelope(**overrides: object) -> Envelope:
    values: dict[str, object] = {
        "id": "8c6f7a52-3b1e-4f7e-9a55-0d2f1c9b7e10",
        "source": "/skaart/fiches",
        "type": "be.socialekaart.fiches.ProviderFicheDepublished",
        "subject": "fiche-123",
        "time": datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
        "correlationid": "run-42",
    }
    values.update(overrides)
    return Envelope.model_validate(values)


def _without(headers: list[tuple[str, bytes]], name: str) -> list[tuple[str, bytes]]:
    return [(key, value) for key, value in headers if key != name]


def test_round_trip_through_headers() -> None:
    envelope = _envelope()
    assert Envelope.from_headers(envelope.to_headers()) == envelope


def test_round_trip_without_correlation_id() -> None:
    envelope = _envelope(correlationid=None)
    headers = envelope.to_headers()
    assert "ce_correlationid" not in dict(headers)
    assert Envelope.from_headers(headers) == envelope


def test_round_trip_accepts_headers_as_a_tuple() -> None:
    # aiokafka hands headers over as a tuple of (str, bytes) pairs.
    envelope = _envelope()
    assert Envelope.from_headers(tuple(envelope.to_headers())) == envelope


def test_headers_use_the_binary_mode_names() -> None:
    headers = dict(_envelope().to_headers())
    assert headers["ce_specversion"] == SPEC_VERSION.encode()
    assert headers["ce_type"] == b"be.socialekaart.fiches.ProviderFicheDepublished"
    assert headers["ce_subject"] == b"fiche-123"
    assert headers["content-type"] == b"application/json"


def test_headers_match_the_published_header_schema() -> None:
    headers = {name: value.decode() for name, value in _envelope().to_headers()}
    jsonschema.validate(headers, cloudevents_headers_schema())


@pytest.mark.parametrize("missing", ["ce_id", "ce_type"])
def test_missing_header_is_rejected_by_name(missing: str) -> None:
    headers = _without(_envelope().to_headers(), missing)
    with pytest.raises(ValueError, match=missing):
        Envelope.from_headers(headers)


def test_all_missing_headers_are_named() -> None:
    headers = _without(_without(_envelope().to_headers(), "ce_id"), "ce_type")
    with pytest.raises(ValueError) as error:
        Envelope.from_headers(headers)
    assert "ce_id" in str(error.value)
    assert "ce_type" in str(error.value)


def test_unsupported_specversion_is_rejected() -> None:
    headers = [*_without(_envelope().to_headers(), "ce_specversion"), ("ce_specversion", b"0.3")]
    with pytest.raises(ValueError, match="specversion"):
        Envelope.from_headers(headers)
