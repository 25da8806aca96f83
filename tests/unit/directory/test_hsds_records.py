"""An HSDS record is served as its stored text, a service with its `last_modified`
spliced in: held here to what decoding the record and adding the field would give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from directory.adapters.standard_queries import Found
from directory.entrypoints.http_hsds import record_text

SERVICE = '{"id":"s-1","name":"Huisartsenpraktijk De Linde","status":"active"}'


@pytest.mark.parametrize(
    ("moment", "served_as"),
    [
        (datetime(2026, 12, 1, 18, 23, 30, 882430, tzinfo=UTC), "2026-12-01T18:23:30.882+00:00"),
        (datetime(2026, 12, 1, 18, 23, 30, 999999, tzinfo=UTC), "2026-12-01T18:23:30.999+00:00"),
        (datetime(2026, 12, 1, 18, 23, 30, tzinfo=UTC), "2026-12-01T18:23:30.000+00:00"),
        (
            datetime(2026, 12, 1, 18, 23, 30, 1500, tzinfo=timezone(timedelta(hours=2))),
            "2026-12-01T16:23:30.001+00:00",
        ),
        (datetime(2026, 12, 1, 18, 23, 30, 250000), "2026-12-01T18:23:30.250+00:00"),
    ],
)
def test_a_service_is_served_with_its_last_change_in_utc_to_the_millisecond(
    moment: datetime, served_as: str
) -> None:
    served = orjson.loads(record_text("service", Found("s-1", 3, moment, True, SERVICE)))
    assert served == {**orjson.loads(SERVICE), "last_modified": served_as}


def test_other_records_are_served_as_stored_and_nulls_are_left_out() -> None:
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    assert record_text("organization", Found("o-1", 1, moment, True, SERVICE)) == SERVICE.encode()
    with_nulls = '{"id":"o-1","name":"De Linde","email":null}'
    served = record_text("organization", Found("o-1", 1, moment, True, with_nulls))
    assert orjson.loads(served) == {"id": "o-1", "name": "De Linde"}
