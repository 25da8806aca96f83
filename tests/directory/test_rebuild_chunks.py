"""The size of a rebuild transaction after a catch-up: by time as well as by count."""

from __future__ import annotations

from directory.handlers.rebuild_chunks import RebuildChunks


def test_without_a_time_every_chunk_is_the_most() -> None:
    chunks = RebuildChunks(most=2_000)
    chunks.took(2_000, 30.0)
    assert chunks.size == 2_000


def test_the_first_chunk_is_small_and_fast_chunks_grow_at_most_twofold_up_to_the_most() -> None:
    chunks = RebuildChunks(most=2_000, seconds=0.5, first=200)
    assert chunks.size == 200
    chunks.took(200, 0.01)  # fifty times faster than aimed at
    assert chunks.size == 400
    sizes = []
    for _ in range(5):
        chunks.took(chunks.size, 0.01)
        sizes.append(chunks.size)
    assert sizes == [800, 1_600, 2_000, 2_000, 2_000]


def test_slow_chunks_shrink_to_what_fits_in_the_time() -> None:
    chunks = RebuildChunks(most=2_000, seconds=0.5, first=200)
    chunks.took(200, 2.0)  # 10 ms a fiche: 50 fit in half a second
    assert chunks.size == 50
    chunks.took(50, 60.0)  # a stalled machine: still one fiche at a time, never none
    assert chunks.size == 1


def test_a_last_partial_chunk_leaves_the_size_as_it_is() -> None:
    chunks = RebuildChunks(most=2_000, seconds=0.5, first=200)
    chunks.took(3, 0.4)  # mostly the transaction's own cost
    assert chunks.size == 200
    chunks.took(0, 0.0)
    assert chunks.size == 200
