"""Celebrities: authors with so many friends that their posts are pulled, not pushed."""

import json
from collections.abc import Sequence

from redis.asyncio import Redis

from tidings.feed.keys import Keys
from tidings.stores.graph import CelebrityChange, FriendGraph


class Celebrities:
    def __init__(
        self,
        redis: "Redis",
        keys: Keys,
        graph: FriendGraph,
        threshold: int,
        cache_seconds: int,
        *,
        demote_below: int | None = None,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._graph = graph
        self.threshold = threshold
        self.demote_below = threshold if demote_below is None else demote_below
        self._cache_seconds = cache_seconds
        self.cache_hits = 0
        self.cache_misses = 0

    async def is_celebrity(self, user_id: str) -> bool:
        return await self._graph.is_celebrity(user_id)

    async def reconsider(self, user_id: str) -> CelebrityChange:
        """After the user's friend count changed: promoted at the threshold, demoted
        only well below it, so a friendship toggled at the boundary changes nothing."""
        return await self._graph.update_celebrity(
            user_id, promote_at=self.threshold, demote_below=self.demote_below
        )

    async def friends_of(self, user_id: str) -> list[str]:
        """The viewer's celebrity friends, cached for a bounded time."""
        key = self._keys.celebrity_friends(user_id)
        cached: str | None = await self._redis.get(key)  # type: ignore[assignment]
        return await self.friends_given(user_id, cached)

    async def friends_given(self, user_id: str, cached: str | None) -> list[str]:
        """As friends_of, with the cache entry already read (None: not cached)."""
        if cached is not None:
            self.cache_hits += 1
            ids: list[str] = json.loads(cached)
            return ids
        self.cache_misses += 1
        ids = await self._graph.celebrity_friends(user_id)
        key = self._keys.celebrity_friends(user_id)
        await self._redis.set(key, json.dumps(ids), ex=self._cache_seconds)
        return ids

    async def forget(self, user_ids: Sequence[str]) -> None:
        """Drops cached lists, after someone in them crossed the threshold."""
        if user_ids:
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id in user_ids:
                    pipe.delete(self._keys.celebrity_friends(user_id))
                await pipe.execute()
