"""Closing the dual-write gap: no accepted post is left without its fan-out.

`createPost` stores the post with the time by which its fan-out is due (in the
same document write), then appends it to the stream; the worker clears that
field once the post is fanned out. If the API process dies between the insert
and the append, or a message is lost, the field stays: workers sweep for
overdue posts and enqueue them again, postponing the next try so that a slow
backlog is not multiplied. A post enqueued twice is fanned out twice, which
changes nothing.
"""

import logging
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from tidings.feed.keys import Keys
from tidings.feed.queue import FanoutQueue
from tidings.stores.posts import PostStore

log = logging.getLogger(__name__)


class OutboxSweeper:
    def __init__(
        self,
        redis: "Redis",
        keys: Keys,
        posts: PostStore,
        queue: FanoutQueue,
        *,
        retry_after: timedelta,
        batch: int = 500,
    ) -> None:
        self._redis = redis
        self._lock_key = keys.outbox_sweep_lock
        self._posts = posts
        self._queue = queue
        self._retry_after = retry_after
        self._batch = batch

    async def sweep(self) -> int:
        """Enqueues overdue posts; returns how many. One sweeper at a time."""
        if not await self._redis.set(self._lock_key, "1", nx=True, px=5_000):
            return 0
        try:
            now = datetime.now(UTC)
            overdue = await self._posts.overdue_fanouts(now, self._batch)
            if not overdue:
                return 0
            await self._posts.postpone_fanouts(
                [post_id for post_id, _ in overdue], now + self._retry_after
            )
            for post_id, author_id in overdue:
                await self._queue.enqueue(post_id, author_id)
            log.warning("re-enqueued %d posts whose fan-out was overdue", len(overdue))
            return len(overdue)
        finally:
            await self._redis.delete(self._lock_key)
