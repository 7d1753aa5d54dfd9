"""Notification groups waiting to be written: a set in Redis, so a hot post's
thousands of likes a second are one entry, written once per notifier pass.

A like or a comment marks its group changed (a sorted-set member scored by when
it first changed, so the longest waiting go first). A notifier claims a few: they
move to a claimed set with a deadline, and a change that arrives meanwhile marks
the group again, to be written once more. A notifier that dies leaves its claims
to run out, and the next claim takes them back. Every write recomputes the group
from the likes and comments themselves, so writing one twice is harmless.
"""

import time
from typing import Any

from redis.asyncio import Redis

from tidings.feed.keys import Keys

# KEYS: changed, claimed. ARGV: now (ms), claim deadline (ms), how many.
# Returns the claimed members: expired claims first go back to the changed set.
_CLAIM = """
local now, deadline, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local expired = redis.call('ZRANGE', KEYS[2], '-inf', now, 'BYSCORE', 'LIMIT', 0, 1000)
for _, member in ipairs(expired) do
  redis.call('ZADD', KEYS[1], 'NX', now, member)
  redis.call('ZREM', KEYS[2], member)
end
local taken = redis.call('ZRANGE', KEYS[1], 0, count - 1)
for _, member in ipairs(taken) do
  redis.call('ZREM', KEYS[1], member)
  redis.call('ZADD', KEYS[2], deadline, member)
end
return taken
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


class ChangedGroups:
    def __init__(self, redis: "Redis", keys: Keys, *, claim_ms: int = 30_000) -> None:
        self._redis = redis
        self._changed = keys.changed_groups
        self._claimed = keys.claimed_groups
        self._claim_ms = claim_ms
        self._claim = redis.register_script(_CLAIM)

    async def mark(self, group: str) -> None:
        # NX: a group already waiting keeps its place in the line.
        await self._redis.zadd(self._changed, {group: _now_ms()}, nx=True)

    async def claim(self, count: int) -> list[str]:
        now = _now_ms()
        taken: Any = await self._claim(
            keys=[self._changed, self._claimed], args=[now, now + self._claim_ms, count]
        )
        return [member.decode() if isinstance(member, bytes) else str(member) for member in taken]

    async def done(self, groups: list[str]) -> None:
        if groups:
            await self._redis.zrem(self._claimed, *groups)

    async def release(self, groups: list[str]) -> None:
        """Claimed groups that could not be written: back in line at once."""
        if not groups:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._changed, dict.fromkeys(groups, _now_ms()), nx=True)
            pipe.zrem(self._claimed, *groups)
            await pipe.execute()

    async def waiting(self) -> int:
        return int(await self._redis.zcard(self._changed))


def likes_of(post_id: int) -> str:
    """The group of a post's likes: also its notification's key."""
    return f"L{post_id}"


def comments_on(post_id: int) -> str:
    """The group of a post's comments: also its notification's key."""
    return f"C{post_id}"
