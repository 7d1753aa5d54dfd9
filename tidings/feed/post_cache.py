"""Posts kept in the API process: a warm page needs no MongoDB round trip, and keeps
answering while MongoDB is down.

Posts never change after they are written; a delete is the only change, and it
evicts the post here at once and, through Redis pub/sub, in every other API
process. Entries also expire, so a delete announced while pub/sub was down is
not served for long.
"""

import time
from collections import OrderedDict
from collections.abc import Iterable

from tidings.stores.posts import PostDocument


class PostCache:
    def __init__(self, max_entries: int, ttl_seconds: float) -> None:
        self._entries: OrderedDict[int, tuple[float, PostDocument]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self.hits = 0
        self.misses = 0

    def get_many(self, ids: Iterable[int], *, count_misses: bool = True) -> dict[int, PostDocument]:
        """The cached ones of these posts; the others count as misses, unless the
        caller asks for them at once through a path that counts them itself."""
        now = time.monotonic()
        found: dict[int, PostDocument] = {}
        for post_id in ids:
            entry = self._entries.get(post_id)
            if entry is None or entry[0] < now:
                self.misses += count_misses
                if entry is not None:
                    del self._entries[post_id]
                continue
            self._entries.move_to_end(post_id)
            found[post_id] = entry[1]
            self.hits += 1
        return found

    def put_many(self, posts: Iterable[PostDocument]) -> None:
        expires = time.monotonic() + self._ttl
        for post in posts:
            self._entries[post.id] = (expires, post)
            self._entries.move_to_end(post.id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def evict(self, post_id: int) -> None:
        self._entries.pop(post_id, None)
