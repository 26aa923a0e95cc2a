"""Parsed governance documents, kept by their bytes, within a budget of bytes.

The gates of one decision parse the same card and ledger several times, and a replay's
later decisions of a dataset parse its card and its previous ledger again. A budget of
entries (8,192 before) let the reports (about 50 KB each once parsed, and parsed once in a
replay) take as much room as the small documents that are read again, and held some 200 MB
at 10,000 releases; documents are counted here by their bytes (a parsed document takes
about ten times as much), and the small ones have a budget of their own, so that large
ones passing through never evict them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

KeyT = TypeVar("KeyT")
ValueT = TypeVar("ValueT")

#: A document under this many bytes is small: a card, a manifest, a ledger of a few dozen
#: entries, an approval, a waiver (a report is about 5 KB).
SMALL = 4096


class ParseCache(Generic[KeyT, ValueT]):
    """Least recently used first out, in two budgets of bytes: small documents, large ones."""

    def __init__(self, small_bytes: int, large_bytes: int) -> None:
        self._budget = {True: small_bytes, False: large_bytes}
        self._kept: dict[bool, OrderedDict[KeyT, tuple[ValueT, int]]] = {
            True: OrderedDict(),
            False: OrderedDict(),
        }
        self._bytes = {True: 0, False: 0}
        self._lock = threading.Lock()
        #: how many documents were parsed (not found): what tests and benchmarks count
        self.parses = 0

    def get(self, key: KeyT, size: int, parse: Callable[[], ValueT]) -> ValueT:
        """The value of `key` (a document of `size` bytes), parsed by `parse` when it is not
        kept; an exception of `parse` is raised again, never kept."""
        small = size < SMALL
        kept = self._kept[small]
        with self._lock:
            found = kept.get(key)
            if found is not None:
                kept.move_to_end(key)
                return found[0]
        value = parse()
        with self._lock:
            self.parses += 1
            if size <= self._budget[small] and key not in kept:
                kept[key] = (value, size)
                self._bytes[small] += size
                while self._bytes[small] > self._budget[small]:
                    self._bytes[small] -= kept.popitem(last=False)[1][1]
        return value

    def clear(self) -> None:
        with self._lock:
            for small in (True, False):
                self._kept[small].clear()
                self._bytes[small] = 0
