"""Subscriptions that change the same rows take turns only on a database without row locks."""

from __future__ import annotations

import asyncio

import pytest

from servicekit.messaging.inbox import Subscription, kept_apart


def _group(name: str, exclusive: asyncio.Lock | None = None) -> Subscription:
    return Subscription(name=name, topics=("t.v1",), handlers={}, exclusive=exclusive)


def test_on_sqlite_they_share_one_lock_and_keep_everything_else() -> None:
    in_order, ahead = _group("in-order"), _group("ahead")

    kept = kept_apart("sqlite+aiosqlite:///data/s.db", in_order, ahead)

    assert [s.name for s in kept] == ["in-order", "ahead"]
    assert isinstance(kept[0].exclusive, asyncio.Lock)
    assert kept[1].exclusive is kept[0].exclusive
    assert kept[0] == Subscription(**{**vars(in_order), "exclusive": kept[0].exclusive})
    # A second service (or a second call) has a lock of its own.
    assert kept_apart("sqlite:///other.db", _group("a"), _group("b"))[0].exclusive is not (
        kept[0].exclusive
    )


def test_on_postgresql_the_row_locks_keep_them_apart() -> None:
    kept = kept_apart("postgresql+asyncpg://db/s", _group("in-order"), _group("ahead"))

    assert [(s.name, s.exclusive) for s in kept] == [("in-order", None), ("ahead", None)]


def test_a_lock_of_its_own_is_refused() -> None:
    with pytest.raises(ValueError, match="already hold"):
        kept_apart("sqlite:///s.db", _group("in-order", asyncio.Lock()), _group("ahead"))
