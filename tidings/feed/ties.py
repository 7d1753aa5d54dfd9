"""The viewer's friends and mutes, cached in Redis sets: what every read checks.

Every post shown is checked against the viewer's ties to its author. Asking the
graph costs a query per request (about 2 ms here, more for viewers with many
friends); two SMISMEMBER in one round trip cost a tenth of that. A cache entry is
built from the graph on first use and dropped whenever one of the user's
friendships or mutes changes. A build that raced such a change is discarded: a
generation counter, bumped by every invalidation, must be the same before the
graph was read and when the sets are swapped in.
"""

import asyncio
import uuid
from collections.abc import Sequence

from redis.asyncio import Redis

from tidings.feed.friend_lists import friend_chunks
from tidings.feed.keys import Keys
from tidings.stores.breaker import StoreUnavailable
from tidings.stores.graph import FriendGraph, Relation, RelationList

# A member no user id can be (ids are 1 to 64 characters): a built set is never
# empty, so "built and empty" and "not built" differ.
_BUILT = ""
_PAGE = 1_000

# KEYS: generation, new friends, new mutes, friends, mutes. ARGV: expected
# generation, seconds to keep. Swaps the new sets in if nothing changed meanwhile.
_SWAP = """
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then
  redis.call('DEL', KEYS[2], KEYS[3])
  return 0
end
redis.call('RENAME', KEYS[2], KEYS[4])
redis.call('RENAME', KEYS[3], KEYS[5])
redis.call('EXPIRE', KEYS[4], ARGV[2])
redis.call('EXPIRE', KEYS[5], ARGV[2])
return 1
"""


# Builds this process runs at once: a burst of viewers it has never seen (a hot
# post, a restart) queues here instead of sending the graph hundreds of reads at
# once, which would wait on its connection pool past their deadline and trip the
# breaker for everyone.
MAX_CONCURRENT_BUILDS = 16


class TieCache:
    def __init__(
        self,
        redis: "Redis",
        keys: Keys,
        graph: FriendGraph,
        *,
        keep_seconds: int,
        max_concurrent_builds: int = MAX_CONCURRENT_BUILDS,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._graph = graph
        self._keep_seconds = keep_seconds
        self._swap = redis.register_script(_SWAP)
        self._build_slots = asyncio.Semaphore(max_concurrent_builds)
        # One build per viewer at a time; the others wait for it.
        self._building: dict[str, asyncio.Event] = {}
        self.builds = 0

    async def ties(self, viewer_id: str, user_ids: Sequence[str]) -> list[Relation]:
        """Whether the viewer is friends with each user, and has muted them.

        Blocks and requests are not in it: a read needs only these two.
        """
        if not user_ids:
            return []
        try:
            for _attempt in range(2):
                found = await self._read(viewer_id, user_ids)
                if found is not None:
                    return found
                await self._build_once(viewer_id)
        except StoreUnavailable as outage:
            if outage.store != "redis":
                raise
            # Redis is down: the graph still knows, at the price of a query.
        # Rebuilt twice and changed twice meanwhile: ask the graph itself.
        return await self._graph.relations(viewer_id, user_ids)

    async def forget(self, user_ids: Sequence[str]) -> None:
        """After any change of these users' friendships or mutes."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                generation = self._keys.ties_generation(user_id)
                pipe.incr(generation)
                # Outlives any set built before it: those expire after keep_seconds.
                pipe.expire(generation, 2 * self._keep_seconds)
                pipe.delete(self._keys.friend_set(user_id), self._keys.mute_set(user_id))
            await pipe.execute()

    async def _read(self, viewer_id: str, user_ids: Sequence[str]) -> list[Relation] | None:
        friends_key = self._keys.friend_set(viewer_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.smismember(friends_key, [_BUILT, *user_ids])
            pipe.smismember(self._keys.mute_set(viewer_id), list(user_ids))
            friends, mutes = await pipe.execute()
        if not friends[0]:
            return None
        return [
            Relation(friends=bool(friend), muted=bool(muted))
            for friend, muted in zip(friends[1:], mutes, strict=True)
        ]

    async def _build_once(self, viewer_id: str) -> None:
        """Builds the viewer's sets, or waits for the build already under way."""
        running = self._building.get(viewer_id)
        if running is not None:
            await running.wait()  # then read again; if it failed, build or ask the graph
            return
        done = self._building[viewer_id] = asyncio.Event()
        try:
            async with self._build_slots:
                await self._build(viewer_id)
        finally:
            del self._building[viewer_id]
            done.set()

    async def _build(self, viewer_id: str) -> None:
        self.builds += 1
        generation = await self._redis.get(self._keys.ties_generation(viewer_id)) or "0"
        token = uuid.uuid4().hex
        new_friends = self._keys.friend_set(viewer_id, building=token)
        new_mutes = self._keys.mute_set(viewer_id, building=token)
        try:
            await self._redis.sadd(new_friends, _BUILT)
            await self._redis.sadd(new_mutes, _BUILT)
            async for chunk in friend_chunks(self._graph, viewer_id, _PAGE):
                await self._redis.sadd(new_friends, *chunk)
            after = None
            while True:
                page = await self._graph.relations_page(viewer_id, RelationList.MUTED, after, _PAGE)
                if page:
                    await self._redis.sadd(new_mutes, *[user_id for _at, user_id in page])
                if len(page) < _PAGE:
                    break
                after = page[-1]
            keys = [
                self._keys.ties_generation(viewer_id),
                new_friends,
                new_mutes,
                self._keys.friend_set(viewer_id),
                self._keys.mute_set(viewer_id),
            ]
            await self._swap(keys, [generation, self._keep_seconds])
        finally:
            # Gone already if swapped in; never left behind otherwise.
            await self._redis.delete(new_friends, new_mutes)
