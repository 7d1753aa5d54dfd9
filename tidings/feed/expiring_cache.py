"""A bounded, expiring map kept in one process: the newest entries stay, each for
a while, and the least recently used leave first."""

import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class ExpiringCache(Generic[Key, Value]):
    def __init__(self, max_entries: int, ttl_seconds: float) -> None:
        self._entries: OrderedDict[Key, tuple[float, Value]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: Iterable[Key], *, count_misses: bool = True) -> dict[Key, Value]:
        """The cached ones of these; the others count as misses, unless the caller
        asks for them at once through a path that counts them itself."""
        now = time.monotonic()
        found: dict[Key, Value] = {}
        for key in keys:
            entry = self._entries.get(key)
            if entry is None or entry[0] < now:
                self.misses += count_misses
                if entry is not None:
                    del self._entries[key]
                continue
            self._entries.move_to_end(key)
            found[key] = entry[1]
            self.hits += 1
        return found

    def get(self, key: Key) -> Value | None:
        """The cached value, if any; a miss is not counted (the caller loads it)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put_items(self, items: Iterable[tuple[Key, Value]]) -> None:
        expires = time.monotonic() + self._ttl
        for key, value in items:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def evict(self, key: Key) -> None:
        self._entries.pop(key, None)
