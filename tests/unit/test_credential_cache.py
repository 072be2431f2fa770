"""The rules of the kept credentials, without a database (`fleetsim.resources.accounts.cache`)."""

from __future__ import annotations

from fleetsim.resources.accounts import cache as credential_cache
from fleetsim.resources.accounts.cache import CredentialCache

ROW = (1, "AC1", None, "sealed", None, "active", "2026-01-01", "2026-01-01")


def listening_cache() -> CredentialCache:
    cache = CredentialCache()
    cache.listening(True)
    return cache


def test_nothing_is_used_until_a_listener_hears_changes() -> None:
    cache = CredentialCache()
    cache.put(b"k", ROW, cache.generation)
    assert cache.get(b"k") is None
    cache.listening(True)
    cache.put(b"k", ROW, cache.generation)
    assert cache.get(b"k") == ROW
    assert cache.hits == 1


def test_a_row_read_before_the_cache_moved_is_not_kept() -> None:
    cache = listening_cache()
    read_at = cache.generation
    cache.forget()  # a notice arrived while the row was being read
    cache.put(b"k", ROW, read_at)
    assert cache.get(b"k") is None


def test_losing_the_listener_forgets_everything() -> None:
    cache = listening_cache()
    cache.put(b"k", ROW, cache.generation)
    cache.listening(False)
    cache.listening(True)
    assert cache.get(b"k") is None


def test_a_change_under_way_stops_all_use_and_its_end_forgets() -> None:
    cache = listening_cache()
    cache.put(b"k", ROW, cache.generation)
    cache.change_begins()
    assert cache.get(b"k") is None
    cache.put(b"other", ROW, cache.generation)
    cache.change_ends()
    assert cache.get(b"k") is None
    assert cache.get(b"other") is None
    cache.put(b"k", ROW, cache.generation)
    assert cache.get(b"k") == ROW


def test_a_full_cache_starts_again_empty() -> None:
    cache = listening_cache()
    for n in range(credential_cache._LARGEST):
        cache.put(str(n).encode(), ROW, cache.generation)
    cache.put(b"one more", ROW, cache.generation)
    assert cache.get(b"0") is None
    assert cache.get(b"one more") == ROW
