"""Which posts are hot right now: likes and comments counted per post, per second,
in Redis. A hot post's counts spread over shard documents (stores/counters.py);
any other post's stay on one, which a page reads in one small query."""

from typing import Any

from redis.asyncio import Redis

from tidings.feed.keys import Keys

# KEYS: the post's counter. Returns the changes counted in its current second.
_COUNT = """
local seen = redis.call('INCR', KEYS[1])
if seen == 1 then redis.call('PEXPIRE', KEYS[1], 1000) end
return seen
"""


class PostHeat:
    def __init__(self, redis: "Redis", keys: Keys, *, hot_per_second: int = 10) -> None:
        self._keys = keys
        self._hot = hot_per_second
        self._count = redis.register_script(_COUNT)

    async def changed(self, post_id: int) -> bool:
        """Counts a change to the post; whether the post is hot."""
        seen: Any = await self._count(keys=[self._keys.post_heat(post_id)])
        return int(seen) > self._hot
