"""How much a viewer cares about an author, from what the viewer gave the author's
posts over the last 90 days: a like counts 1, a comment 2. Kept incrementally in
Redis, one hash per viewer per 30-day bucket, each expiring after the window: a
read sums the buckets the window touches (slightly more than 90 days, never less).
"""

import time
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from tidings.feed.keys import Keys

LIKE = 1
COMMENT = 2
_BUCKET_SECONDS = 30 * 86_400
_WINDOW_BUCKETS = 4  # the current bucket and the three before it cover 90 days


class Affinity:
    def __init__(self, redis: "Redis", keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    @staticmethod
    def _bucket(now: float) -> int:
        return int(now // _BUCKET_SECONDS)

    async def gave(self, viewer_id: str, author_id: str, weight: int) -> None:
        """The viewer liked (1) or commented on (2) the author's post; negative to
        take it back (an unlike)."""
        if viewer_id == author_id:
            return
        bucket = self._bucket(time.time())
        key = self._keys.affinity(viewer_id, bucket)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(key, author_id, weight)
            pipe.expire(key, _BUCKET_SECONDS * _WINDOW_BUCKETS)
            await pipe.execute()

    async def of(self, viewer_id: str, author_ids: Sequence[str]) -> dict[str, float]:
        """Each author's affinity (0 for none), in one round trip."""
        authors = sorted(set(author_ids))
        if not authors:
            return {}
        now = self._bucket(time.time())
        async with self._redis.pipeline(transaction=False) as pipe:
            for bucket in range(now - _WINDOW_BUCKETS + 1, now + 1):
                pipe.hmget(self._keys.affinity(viewer_id, bucket), authors)
            buckets: Any = await pipe.execute()
        totals = dict.fromkeys(authors, 0.0)
        for values in buckets:
            for author, value in zip(authors, values, strict=True):
                if value is not None:
                    totals[author] += float(value)
        # An unlike in a later bucket than its like must not go below nothing.
        return {author: max(0.0, total) for author, total in totals.items()}
