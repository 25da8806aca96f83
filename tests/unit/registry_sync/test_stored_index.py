"""The stored index's two lookup tables, built lazily in either order.

`StoredIndex` holds every known person as packed bytes; the check pass builds its
digest-to-position table only for a line not where the stored order expects it, and its
key-to-position table only for a line it must parse. Whichever is built first, both give
every person the same position (they share their int objects, so they are built from
each other's values).
"""

from __future__ import annotations

import hashlib

from registry_sync.handlers.snapshot_check import StoredIndex


def digest(number: int) -> bytes:
    return hashlib.blake2b(b"line %d" % number, digest_size=16).digest()


def key(number: int) -> bytes:
    return hashlib.blake2b(b"person %d" % number, digest_size=16).digest()


def index_of(with_digest: int, without_digest: int = 0) -> StoredIndex:
    """People 0..with_digest-1 with a digest, then `without_digest` people without."""
    return StoredIndex(
        digested=b"".join(digest(n) + key(n) for n in range(with_digest)),
        undigested_keys=b"".join(key(n) for n in range(with_digest, with_digest + without_digest)),
    )


def test_neither_table_is_built_until_it_is_asked_for() -> None:
    index = index_of(3, without_digest=1)

    assert (index.known, index.with_digest) == (4, 3)
    assert index._position_of_digest is None and index._position_of_key is None


def test_both_tables_give_every_person_the_same_position_whichever_is_built_first() -> None:
    for digest_table_first in (True, False):
        index = index_of(4, without_digest=3)
        if digest_table_first:
            by_digest = dict(index.position_of_digest)
            by_key = {key(n): index.position_of_key(key(n)) for n in range(7)}
        else:
            by_key = {key(n): index.position_of_key(key(n)) for n in range(7)}
            by_digest = dict(index.position_of_digest)

        assert by_digest == {digest(n): n for n in range(4)}
        assert by_key == {key(n): n for n in range(7)}
        assert index.position_of_key(key(99)) is None
        assert index.position_of_digest.get(key(0)) is None  # a key is not a digest


def test_an_empty_index_knows_nobody() -> None:
    index = StoredIndex()

    assert (index.known, index.position_of_digest, index.person_keys()) == (0, {}, [])
    assert index.position_of_key(key(0)) is None
