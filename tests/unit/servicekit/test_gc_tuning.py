"""A service process freezes what start-up built and collects young objects less often."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from servicekit.gc_tuning import YOUNG_COLLECTION_EVERY, tune_for_long_running_service


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_start_up_objects_are_frozen_and_young_collections_are_rarer(
    restored_collector: None,
) -> None:
    built_at_start_up = [object() for _ in range(10)]
    tune_for_long_running_service()
    assert gc.get_freeze_count() > len(built_at_start_up)
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY


def test_reference_cycles_are_still_collected(restored_collector: None) -> None:
    tune_for_long_running_service()

    class Node:
        partner: object

    collected: list[str] = []
    first, second = Node(), Node()
    first.partner, second.partner = second, first
    weakref.finalize(first, collected.append, "first")
    del first, second
    gc.collect()
    assert collected == ["first"]
