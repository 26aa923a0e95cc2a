"""The parse cache (`decision/parse_cache.py`): bounded by bytes, not by documents, and the
small documents a replay reads again kept apart from the large ones passing through."""

from __future__ import annotations

import pytest

from synthgov.decision.parse_cache import SMALL, ParseCache


def _keep(cache: ParseCache[str, str], key: str, size: int) -> str:
    return cache.get(key, size, lambda: f"parsed {key}")


def test_the_cache_holds_no_more_bytes_than_its_budget_whatever_the_documents_count() -> None:
    cache: ParseCache[str, str] = ParseCache(small_bytes=10 * 1000, large_bytes=4 * SMALL)
    for k in range(100):  # 100 documents of 1,000 bytes: ten fit
        _keep(cache, f"card-{k}", 1000)
    assert cache.parses == 100
    for k in range(90, 100):  # the ten most recent are still kept
        _keep(cache, f"card-{k}", 1000)
    assert cache.parses == 100
    _keep(cache, "card-0", 1000)  # the oldest is gone
    assert cache.parses == 101


def test_large_documents_passing_through_do_not_evict_the_small_ones() -> None:
    cache: ParseCache[str, str] = ParseCache(small_bytes=64 * 1000, large_bytes=4 * SMALL)
    for k in range(50):
        _keep(cache, f"card-{k}", 1000)
    for k in range(1000):  # a thousand reports, each parsed once
        _keep(cache, f"report-{k}", SMALL + 1000)
    parsed = cache.parses
    for k in range(50):
        assert _keep(cache, f"card-{k}", 1000) == f"parsed card-{k}"
    assert cache.parses == parsed  # every card was still kept


def test_a_document_larger_than_its_budget_is_parsed_and_not_kept() -> None:
    cache: ParseCache[str, str] = ParseCache(small_bytes=1000, large_bytes=SMALL)
    _keep(cache, "card", 500)
    _keep(cache, "huge", 10 * SMALL)
    _keep(cache, "huge", 10 * SMALL)
    _keep(cache, "card", 500)
    assert cache.parses == 3  # the huge one twice, the card once


def test_a_document_that_does_not_parse_is_not_kept() -> None:
    cache: ParseCache[str, str] = ParseCache(small_bytes=1000, large_bytes=SMALL)
    tries = 0

    def broken() -> str:
        nonlocal tries
        tries += 1
        raise ValueError("not yaml")

    for _ in range(2):
        with pytest.raises(ValueError, match="not yaml"):
            cache.get("bad", 10, broken)
    assert tries == 2 and cache.parses == 0
