"""Reading sessions of the ranked feed: the order a session's first page froze,
kept in Redis as a list of post ids, so each next page is a slice of it.

A session lives `ttl_seconds` after it was last read (reading extends it). Each
user keeps at most `per_user`: a new one evicts the user's oldest. All of a
user's session keys share the user's hash tag (one slot in a cluster).
"""

import secrets
import time
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from tidings.feed.keys import Keys


class RankedSessions:
    def __init__(
        self, redis: "Redis", keys: Keys, *, ttl_seconds: int = 1_800, per_user: int = 5
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = ttl_seconds
        self._per_user = per_user

    async def start(self, user_id: str, ordered: Sequence[int]) -> int:
        """Stores the order; returns the new session's id."""
        session_id = secrets.randbits(62) + 1  # never 0: 0 means "no session"
        key = self._keys.ranked_session(user_id, session_id)
        index = self._keys.ranked_sessions(user_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            if ordered:
                pipe.rpush(key, *[str(post_id) for post_id in ordered])
                pipe.expire(key, self._ttl)
            pipe.zadd(index, {str(session_id): time.time()})
            pipe.expire(index, self._ttl)
            pipe.zrange(index, 0, -(self._per_user + 1))
            *_, evicted = await pipe.execute()
        if evicted:
            stale = [self._keys.ranked_session(user_id, int(old)) for old in evicted]
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(*stale)
                pipe.zrem(index, *evicted)
                await pipe.execute()
        return session_id

    async def slice(
        self, user_id: str, session_id: int, offset: int, count: int
    ) -> list[int] | None:
        """Up to `count` ids from `offset`; None if the session expired or was
        evicted. Reading it extends its life."""
        key = self._keys.ranked_session(user_id, session_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.lrange(key, offset, offset + count - 1)
            pipe.expire(key, self._ttl)
            pipe.expire(self._keys.ranked_sessions(user_id), self._ttl)
            found, alive, _ = await pipe.execute()
        if not alive:
            return None
        members: Any = found
        return [int(member) for member in members]
