"""A small read-through cache whose entries expire, readable from the event loop.

`cached()` never blocks, so an async caller answers a hit in place and pays a thread hop
(for `get()`, which may run a database lookup) only on a miss.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from enum import Enum, auto
from typing import Generic, Literal, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class Cached(Enum):
    MISS = auto()


class TtlCache(Generic[Key, Value]):
    """key -> value, each kept `ttl` seconds; emptied whole when it reaches `max_entries`
    (crude, but bounded, and a refill costs one lookup per active key)."""

    def __init__(self, ttl: float, max_entries: int = 50_000) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: dict[Key, tuple[Value, float]] = {}
        self._lock = threading.Lock()

    def cached(self, key: Key) -> Value | Literal[Cached.MISS]:
        """The value if present and fresh; MISS otherwise."""
        found = self._entries.get(key)
        return found[0] if found is not None and found[1] > time.monotonic() else Cached.MISS

    def get(self, key: Key, load: Callable[[], Value]) -> Value:
        """The fresh value, or `load()`'s (blocking), which is then kept."""
        found = self.cached(key)
        if not isinstance(found, Cached):
            return found
        expires = time.monotonic() + self._ttl
        value = load()
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key] = (value, expires)
        return value
