"""Home timelines: one Redis sorted set of post ids per user, scored by the id."""

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis


class TimelineStore:
    def __init__(self, redis: "Redis", namespace: str, max_length: int) -> None:
        self._redis = redis
        self._namespace = namespace
        self._max_length = max_length

    def key(self, user_id: str) -> str:
        return f"{self._namespace}:tl:{user_id}"

    async def push(self, post_id: int, user_ids: Sequence[str]) -> None:
        """Adds the post to each user's timeline and trims each to the cap.

        Safe to repeat: a member added twice is one entry.
        """
        if not user_ids:
            return
        # Ids are below 2**53, so the score is exact as a double.
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                key = self.key(user_id)
                pipe.zadd(key, {str(post_id): post_id})
                pipe.zremrangebyrank(key, 0, -(self._max_length + 1))
            await pipe.execute()

    async def page(self, user_id: str, before: int | None, limit: int) -> list[int]:
        """Up to `limit` post ids, newest first, all strictly older than `before`."""
        upper = "+inf" if before is None else f"({before}"
        members: Any = await self._redis.zrange(
            self.key(user_id), upper, "-inf", desc=True, byscore=True, offset=0, num=limit
        )
        return [int(member) for member in members]

    async def size(self, user_id: str) -> int:
        return int(await self._redis.zcard(self.key(user_id)))
