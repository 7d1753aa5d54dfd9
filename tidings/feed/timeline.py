"""Home timelines: one Redis sorted set of post ids per user, scored by the id.

A timeline is a cache. It holds a sentinel member once it has been built from
MongoDB, so a key that was evicted, lost in a restart, or never built is told
apart from one that is merely empty, and fan-out never writes into a timeline
that is not whole: that reader is rebuilt on their next read instead.

The sentinel's score also says whether the timeline is complete: -1 when it holds
every post of the reader's pushed authors back to the retention horizon (a build
that found fewer posts than the cap), 0 otherwise. A read then needs nothing below
a complete timeline from MongoDB. Whatever could leave a gap makes it incomplete:
a trim that removed anything, a backfill of older posts, an unmute.

Every timeline is trimmed by one Lua function, `keep_newest`, whichever script
writes to it. Key names come from `Keys`.
"""

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError

from tidings.feed.keys import Keys

SENTINEL = "0"
COMPLETE = -1.0

# The functions every timeline script shares. keep_newest: rank 0 is the sentinel
# (score -1 or 0): it stays, and so do the `cap` newest posts. Removing any other
# makes the timeline incomplete.
_KEEP_NEWEST = """
-- Whether a reader's timeline takes new posts: built, and read since `since`
-- (unix seconds; 0 = whenever) according to its last-read key.
local function takes_posts(timeline, last_read, since)
  if since > 0 then
    local seen = tonumber(redis.call('GET', last_read))
    if seen == nil or seen < since then return false end
  end
  return redis.call('ZSCORE', timeline, '0') ~= false
end

local function keep_newest(timeline, cap)
  if redis.call('ZREMRANGEBYRANK', timeline, 1, -(cap + 1)) > 0 then
    redis.call('ZADD', timeline, 'XX', 0, '0')
  end
end
"""

# Many posts to many readers in one call, readers grouped by the posts they get.
# keys: (timeline, last-read, live mark) per reader, group after group. args: cap,
# the prefix of readers' live channels, then per group: its active-since (0 = any),
# how many posts, those post ids (ascending), how many readers. Returns how many
# (reader, post) deliveries were made.
_FAN_OUT_MANY_BODY = """
local cap, prefix = tonumber(args[1]), args[2]
local at, key, delivered = 3, 1, 0
while at <= #args do
  local since, count = tonumber(args[at]), tonumber(args[at + 1])
  local first, last = at + 2, at + 1 + count
  local readers = tonumber(args[last + 1])
  at = last + 2
  -- One ZADD per reader for all of the group's posts: (score, member) pairs.
  local members = {}
  for j = first, last do
    members[#members + 1] = args[j]
    members[#members + 1] = args[j]
  end
  for _ = 1, readers do
    local timeline = keys[key]
    if takes_posts(timeline, keys[key + 1], since) then
      local live = redis.call('EXISTS', keys[key + 2]) == 1
      redis.call('ZADD', timeline, unpack(members))
      if live then
        local channel = prefix .. string.match(timeline, '{.*}$')
        for j = first, last do redis.call('PUBLISH', channel, args[j]) end
      end
      keep_newest(timeline, cap)
      delivered = delivered + count
    end
    key = key + 3
  end
end
return delivered
"""
# On one server: the readers' keys are the call's KEYS.
_FAN_OUT_MANY = _KEEP_NEWEST + "local keys, args = KEYS, ARGV\n" + _FAN_OUT_MANY_BODY
# On a Redis Cluster node: the readers' keys, in many slots of the one node the call
# is sent to (which the flag allows), follow the arguments (their count first); KEYS
# names one of them so the call is routed there. One call serves a node's share.
_FAN_OUT_MANY_ON_NODE = (
    "#!lua flags=allow-cross-slot-keys\n"
    + _KEEP_NEWEST
    + """
local head = tonumber(ARGV[1])
local args, keys = {unpack(ARGV, 2, head + 1)}, {unpack(ARGV, head + 2)}
"""
    + _FAN_OUT_MANY_BODY
)

# KEYS: timeline. ARGV: cap, '1' if the posts are history (older posts of an
# author, which may leave a gap below them), then post ids. Adds only to a built
# timeline.
_ADD = (
    _KEEP_NEWEST
    + """
if not redis.call('ZSCORE', KEYS[1], '0') then return 0 end
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i]) end
if ARGV[2] == '1' then redis.call('ZADD', KEYS[1], 'XX', 0, '0') end
keep_newest(KEYS[1], tonumber(ARGV[1]))
return 1
"""
)

# KEYS: timeline, last-read. ARGV: cap, keep (seconds), now, sentinel score
# (-1 complete, 0 not), then post ids. Marks the timeline whole (merged with
# anything already there) and read now.
_BUILD = (
    _KEEP_NEWEST
    + """
for i = 5, #ARGV do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i]) end
redis.call('ZADD', KEYS[1], ARGV[4], '0')
keep_newest(KEYS[1], tonumber(ARGV[1]))
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[2])
return 1
"""
)

# KEYS: lock. ARGV: token. Releases the lock only if we still hold it.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class Delivery:
    """Posts for one reader's timeline, if they read since `active_since` (0: any)."""

    reader: str
    active_since: float
    post_ids: list[int]


@dataclass(frozen=True, slots=True)
class TimelineRead:
    built: bool
    last_read: float | None
    post_ids: list[int]
    # Holds every post of the reader's pushed authors back to the retention horizon.
    complete: bool = False
    # The user's celebrity-friend list as cached (JSON), None if not cached.
    cached_celebrity_friends: str | None = None


class TimelineStore:
    def __init__(
        self,
        redis: "Redis",
        keys: Keys,
        max_length: int,
        keep_seconds: int,
        *,
        readers_per_call: int = 250,
        entries_per_call: int = 1_000,
    ) -> None:
        self._redis = redis
        # redis-py pipelines scripts on one server only; a cluster takes calls.
        self._cluster = redis if isinstance(redis, RedisCluster) else None
        # Readers per script call. One command for many readers costs the client a
        # third of the encoding of one command each (py-spy: encoding bounds the
        # worker). On a Redis Cluster they are grouped by node first.
        self._readers_per_call = readers_per_call
        # Post ids per call of fan_out_many: what bounds how long one call holds
        # Redis (see docs/capacity.md for its measured time).
        self._entries_per_call = entries_per_call
        self._keys = keys
        self._max_length = max_length
        # Timelines of users who stop reading expire with their activity.
        self._keep_seconds = keep_seconds
        self._fan_out_many_on_node = redis.register_script(_FAN_OUT_MANY_ON_NODE)
        self._fan_out_many = redis.register_script(_FAN_OUT_MANY)
        self._add = redis.register_script(_ADD)
        self._build = redis.register_script(_BUILD)
        self._unlock = redis.register_script(_UNLOCK)

    async def fan_out(self, post_id: int, user_ids: Sequence[str], active_since: float) -> int:
        """Adds the post to each built timeline whose owner read since `active_since`.

        Returns how many received it. Safe to repeat: a member added twice is one entry.
        """
        return await self.fan_out_many(
            [Delivery(user_id, active_since, [post_id]) for user_id in user_ids]
        )

    async def fan_out_many(self, deliveries: Sequence[Delivery]) -> int:
        """Many posts to many readers. Readers owed the same posts share one list of
        them in a call, so a post's id is sent once per call, not once per reader. A
        call carries at most `readers_per_call` readers and `entries_per_call`
        (reader, post) pairs; on one server all calls go in one pipeline, on a Redis
        Cluster each node gets its own readers' calls. Returns the (reader, post)
        deliveries made. Safe to repeat."""
        if not deliveries:
            return 0
        if self._cluster is not None:
            return await self._fan_out_by_node(self._cluster, deliveries)
        return sum(await self._run(self._fan_out_many, self._many_calls(deliveries)))

    def _many_calls(
        self, deliveries: Sequence[Delivery]
    ) -> list[tuple[list[str], list[str | int | float]]]:
        """(keys, args) of the fan_out_many calls that make these deliveries."""
        groups: dict[tuple[float, tuple[int, ...]], list[str]] = {}
        for delivery in deliveries:
            owed = (delivery.active_since, tuple(sorted(delivery.post_ids)))
            groups.setdefault(owed, []).append(delivery.reader)
        head: list[str | int | float] = [self._max_length, self._keys.user_channel_prefix]
        calls: list[tuple[list[str], list[str | int | float]]] = []
        keys: list[str] = []
        args: list[str | int | float] = []
        entries = 0
        for (active_since, post_ids), readers in groups.items():
            # Readers of this group that fit the call still open, then new calls.
            room = max(1, self._entries_per_call // len(post_ids))
            start = 0
            while start < len(readers):
                fits = min(
                    self._readers_per_call - len(keys) // 3,
                    (self._entries_per_call - entries) // len(post_ids),
                )
                if fits <= 0:
                    calls.append((keys, [*head, *args]))
                    keys, args, entries = [], [], 0
                    fits = min(self._readers_per_call, room)
                taken = readers[start : start + fits]
                keys += self._reader_keys(taken)
                args += [active_since, len(post_ids), *post_ids, len(taken)]
                entries += len(taken) * len(post_ids)
                start += len(taken)
        if keys:
            calls.append((keys, [*head, *args]))
        return calls

    def _reader_keys(self, user_ids: Sequence[str]) -> list[str]:
        return [
            key
            for user_id in user_ids
            for key in (
                self._keys.timeline(user_id),
                self._keys.last_read(user_id),
                self._keys.live_mark(user_id),
            )
        ]

    async def _fan_out_by_node(self, cluster: RedisCluster, deliveries: Sequence[Delivery]) -> int:
        """The calls of each node's readers, sent to that node: a reader's keys share
        the reader's slot, and the script may touch every slot of its node."""
        await cluster.initialize()
        by_node: dict[str, tuple[ClusterNode, list[Delivery]]] = {}
        unrouted: list[Delivery] = []
        for delivery in deliveries:
            node = cluster.get_node_from_key(self._keys.timeline(delivery.reader))
            if node is None:
                unrouted.append(delivery)
            else:
                by_node.setdefault(node.name, (node, []))[1].append(delivery)
        limit = asyncio.Semaphore(8)

        async def one_by_one(readers: Sequence[Delivery]) -> int:
            # Each reader on its own, routed by its slot by the client.
            calls = [call for delivery in readers for call in self._many_calls([delivery])]
            return sum(await self._run(self._fan_out_many, calls))

        async def on_node(node: ClusterNode, readers: Sequence[Delivery]) -> int:
            async with limit:
                delivered = 0
                for keys, args in self._many_calls(readers):
                    try:
                        delivered += await self._eval_on(cluster, node, keys, args)
                    except ResponseError:
                        # Slots moving between nodes (a reshard, a failover): all
                        # again, one by one (a delivery made twice is one entry).
                        return await one_by_one(readers)
                return delivered

        calls = [on_node(node, readers) for node, readers in by_node.values()]
        return sum(await asyncio.gather(*calls, one_by_one(unrouted)))

    async def _eval_on(
        self,
        cluster: RedisCluster,
        node: ClusterNode,
        keys: list[str],
        args: list[str | int | float],
    ) -> int:
        script = self._fan_out_many_on_node
        command = ("EVALSHA", script.sha, 1, keys[0], len(args), *args, *keys)
        try:
            result = await cluster.execute_command(*command, target_nodes=node)
        except NoScriptError:
            await cluster.execute_command("SCRIPT", "LOAD", script.script, target_nodes=node)
            result = await cluster.execute_command(*command, target_nodes=node)
        return int(result)

    async def add(self, user_id: str, post_ids: Sequence[int]) -> bool:
        """Adds new posts to the user's timeline if it is built; False if it is not."""
        return await self.add_to_many([user_id], post_ids, history=False) == 1

    async def add_to_many(
        self, user_ids: Sequence[str], post_ids: Sequence[int], *, history: bool
    ) -> int:
        """Adds posts to each of these timelines that is built; returns how many were.
        `history`: older posts of an author (a backfill), which leave the timeline
        incomplete below them."""
        if not post_ids:
            return len(user_ids)
        args: list[str | int | float] = [self._max_length, "1" if history else "0", *post_ids]
        calls = [([self._keys.timeline(user_id)], args) for user_id in user_ids]
        return sum(await self._run(self._add, calls))

    async def _run(
        self, script: AsyncScript, calls: list[tuple[list[str], list[str | int | float]]]
    ) -> list[int]:
        """Runs one script many times: in one pipeline on a single server, or as
        bounded concurrent calls on a cluster, where redis-py cannot pipeline them."""
        if self._cluster is not None:
            # Bounded so one post does not take every connection of the pool.
            limit = asyncio.Semaphore(32)

            async def call(keys: list[str], args: list[str | int | float]) -> int:
                async with limit:
                    return int(await script(keys, args))

            return list(await asyncio.gather(*(call(keys, args) for keys, args in calls)))
        async with self._redis.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                await script(keys, args, client=pipe)
            results = await pipe.execute()
        return [int(result) for result in results]

    async def build(
        self, user_id: str, post_ids: Sequence[int], now: float, *, complete: bool = False
    ) -> None:
        """Marks the timeline whole with these posts (merged with any already there);
        `complete` if they are every post back to the retention horizon."""
        keys = [self._keys.timeline(user_id), self._keys.last_read(user_id)]
        score = COMPLETE if complete else 0
        args: list[str | int | float] = [
            self._max_length,
            self._keep_seconds,
            repr(now),
            score,
            *post_ids,
        ]
        await self._build(keys, args)

    async def mark_incomplete(self, user_id: str) -> None:
        """Something may be missing below its newest posts (an unmute, say)."""
        await self._redis.zadd(self._keys.timeline(user_id), {SENTINEL: 0}, xx=True)

    async def remove(self, user_id: str, post_ids: Sequence[int]) -> None:
        if post_ids:
            await self._redis.zrem(
                self._keys.timeline(user_id), *[str(post_id) for post_id in post_ids]
            )

    async def remove_from_many(self, post_id: int, user_ids: Sequence[str]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.zrem(self._keys.timeline(user_id), str(post_id))
            await pipe.execute()

    async def read(self, user_id: str, before: int | None, limit: int) -> TimelineRead:
        """Whether the timeline is built, when it was last read, a page below `before`,
        and the user's cached celebrity-friend list, in one round trip.

        The celebrity list is read before the page: when an author stops being a
        celebrity the worker pushes their posts and only then drops them from cached
        lists, so reading in this order sees each post at least once.
        """
        key = self._keys.timeline(user_id)
        upper = "+inf" if before is None else f"({before}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._keys.celebrity_friends(user_id))
            pipe.zscore(key, SENTINEL)
            pipe.get(self._keys.last_read(user_id))
            pipe.zrange(key, upper, "(0", desc=True, byscore=True, offset=0, num=limit)
            celebrities, sentinel, last_read, members = await pipe.execute()
        return TimelineRead(
            built=sentinel is not None,
            complete=sentinel is not None and float(sentinel) == COMPLETE,
            last_read=None if last_read is None else float(last_read),
            post_ids=[int(member) for member in members],
            cached_celebrity_friends=celebrities,
        )

    async def above(self, user_id: str, post_id: int, limit: int) -> tuple[list[int], int | None]:
        """Up to `limit` ids newer than `post_id`, oldest first (nearest it), and the
        oldest id the timeline holds, in one round trip."""
        key = self._keys.timeline(user_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrange(key, f"({post_id}", "+inf", byscore=True, offset=0, num=limit)
            pipe.zrange(key, "(0", "+inf", byscore=True, offset=0, num=1)
            members, oldest = await pipe.execute()
        return [int(member) for member in members], int(oldest[0]) if oldest else None

    async def mark_read(self, user_id: str, now: float) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._keys.last_read(user_id), repr(now), ex=self._keep_seconds)
            pipe.expire(self._keys.timeline(user_id), self._keep_seconds)
            await pipe.execute()

    async def oldest(self, user_id: str) -> int | None:
        members: Any = await self._redis.zrange(
            self._keys.timeline(user_id), "(0", "+inf", byscore=True, offset=0, num=1
        )
        return int(members[0]) if members else None

    async def size(self, user_id: str) -> int:
        """Posts held, the sentinel not counted."""
        return int(await self._redis.zcount(self._keys.timeline(user_id), "(0", "+inf"))

    async def lock_rebuild(self, user_id: str, hold_ms: int) -> str | None:
        """A token if we now hold this user's rebuild lock, None if someone else does."""
        token = uuid.uuid4().hex
        lock = self._keys.rebuild_lock(user_id)
        taken = await self._redis.set(lock, token, nx=True, px=hold_ms)
        return token if taken else None

    async def unlock_rebuild(self, user_id: str, token: str) -> None:
        await self._unlock([self._keys.rebuild_lock(user_id)], [token])

    async def rebuild_in_progress(self, user_id: str) -> bool:
        return bool(await self._redis.exists(self._keys.rebuild_lock(user_id)))
