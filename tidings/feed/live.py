"""Live delivery: posts and notifications announced over Redis pub/sub, delivered
to local listeners.

One hub per API process holds one pub/sub connection, whatever the number of
WebSocket subscribers: a channel is subscribed while at least one local listener
needs it. Workers publish posts only for users marked live, a mark each hub
refreshes while its timeline listeners stay connected and that expires on its
own if the process dies. Notifications are few per user: always published.
"""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from redis.asyncio import Redis

from tidings.feed.keys import Keys
from tidings.feed.post_cache import PostCache
from tidings.stores.posts import PostDocument, PostStore

log = logging.getLogger(__name__)

_HYDRATE_BATCH = 500


def stop_if_cancelled() -> None:
    """Ends the stream if it was cancelled while a client library swallowed it.

    redis-py and PyMongo can lose a cancellation that lands mid-command (seen
    here on Python 3.11: about 1 in 4 for a Redis GET in a tight loop), which
    would leave a disconnected subscriber's task, listener and channels alive.
    The task's cancellation count survives, so we look at it after each call.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Announcer:
    """The worker's side: a celebrity's post is published once, to one channel that
    their subscribed friends listen to, not once per friend."""

    def __init__(self, redis: "Redis", keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def celebrity_post(self, author_id: str, post_id: int) -> None:
        await self._redis.publish(self._keys.celebrity_channel(author_id), str(post_id))


class Subscriber(Protocol):
    channels: set[str]


class Listener:
    """One subscription's queue: bounded, and the oldest events go first when full.

    Dropping (not closing the socket) keeps a slow client connected; the timeline
    query is the source of truth for whatever it missed.
    """

    def __init__(self, user_id: str, capacity: int) -> None:
        self.user_id = user_id
        self.channels: set[str] = set()
        self._events: deque[PostDocument] = deque(maxlen=capacity)
        self._ready = asyncio.Event()
        # At-least-once fan-out may announce a post twice; show it once.
        self._recent: deque[int] = deque(maxlen=256)

    def put(self, post: PostDocument) -> bool:
        """Queues the post; False if the oldest queued one had to make room for it."""
        if post.id in self._recent:
            return True
        self._recent.append(post.id)
        full = len(self._events) == self._events.maxlen
        self._events.append(post)
        self._ready.set()
        return not full

    def take_ready(self) -> list[PostDocument]:
        """Every event already queued, without waiting."""
        ready = list(self._events)
        self._events.clear()
        return ready

    async def next(self) -> PostDocument:
        while not self._events:
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()


class KeyListener:
    """One notification subscription's queue of keys: a key already waiting is not
    queued twice (the subscriber reads the notification as it is by then)."""

    def __init__(self, capacity: int) -> None:
        self.channels: set[str] = set()
        self._keys: dict[str, None] = {}
        self._capacity = capacity
        self._ready = asyncio.Event()

    def put(self, key: str) -> bool:
        if key in self._keys:
            return True
        full = len(self._keys) >= self._capacity
        if full:
            del self._keys[next(iter(self._keys))]
        self._keys[key] = None
        self._ready.set()
        return not full

    async def next(self) -> str:
        while not self._keys:
            self._ready.clear()
            await self._ready.wait()
        key = next(iter(self._keys))
        del self._keys[key]
        return key


class LiveHub:
    def __init__(
        self,
        redis: "Redis",
        keys: Keys,
        posts: PostStore,
        cache: PostCache,
        *,
        capacity: int,
        presence_seconds: int,
    ) -> None:
        self._redis = redis
        self._posts = posts
        self._keys = keys
        self._cache = cache
        self._capacity = capacity
        self._presence_seconds = presence_seconds
        self._pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self._by_channel: dict[str, set[Subscriber]] = {}
        self._listeners: set[Listener] = set()
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        # Events dropped for slow subscribers, over the life of the process.
        self.dropped = 0

    async def start(self) -> None:
        # Always subscribed: deletes evict the post cache. It also means the pub/sub
        # connection exists before any listener.
        await self._pubsub.subscribe(self._keys.deleted_posts_channel)
        self._tasks = [
            asyncio.create_task(self._dispatch(), name="live-dispatch"),
            asyncio.create_task(self._refresh_presence(), name="live-presence"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]

    @contextlib.asynccontextmanager
    async def listen(self, user_id: str, celebrity_ids: Sequence[str]) -> AsyncIterator[Listener]:
        listener = Listener(user_id, self._capacity)
        channels = [self._keys.user_channel(user_id)]
        channels += [self._keys.celebrity_channel(c) for c in celebrity_ids]
        await self._mark_live([user_id])
        self._listeners.add(listener)
        await self._attach(listener, channels)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)
            await asyncio.shield(self._detach(listener))

    @contextlib.asynccontextmanager
    async def listen_notifications(self, user_id: str) -> AsyncIterator[KeyListener]:
        listener = KeyListener(self._capacity)
        await self._attach(listener, [self._keys.notification_channel(user_id)])
        try:
            yield listener
        finally:
            await asyncio.shield(self._detach(listener))

    async def follow_celebrities(self, listener: Listener, celebrity_ids: Sequence[str]) -> None:
        """Brings a listener's celebrity channels up to date with its friends."""
        wanted = {self._keys.user_channel(listener.user_id)}
        wanted |= {self._keys.celebrity_channel(c) for c in celebrity_ids}
        async with self._lock:
            await self._unsubscribe(listener, listener.channels - wanted)
            await self._subscribe(listener, wanted - listener.channels)

    async def _attach(self, listener: Subscriber, channels: Sequence[str]) -> None:
        async with self._lock:
            await self._subscribe(listener, set(channels))

    async def _detach(self, listener: Subscriber) -> None:
        async with self._lock:
            await self._unsubscribe(listener, set(listener.channels))

    async def _subscribe(self, listener: Subscriber, channels: set[str]) -> None:
        new = [channel for channel in channels if channel not in self._by_channel]
        for channel in channels:
            self._by_channel.setdefault(channel, set()).add(listener)
            listener.channels.add(channel)
        if new:
            await self._pubsub.subscribe(*new)

    async def _unsubscribe(self, listener: Subscriber, channels: set[str]) -> None:
        unused = []
        for channel in channels:
            listener.channels.discard(channel)
            others = self._by_channel.get(channel, set())
            others.discard(listener)
            if not others:
                self._by_channel.pop(channel, None)
                unused.append(channel)
        if unused:
            await self._pubsub.unsubscribe(*unused)

    async def _dispatch(self) -> None:
        while True:
            try:
                announced = await self._receive()
                if announced:
                    await self._deliver(announced)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Live delivery is best effort: the timeline still has these posts.
                log.exception("live delivery failed; retrying")
                await asyncio.sleep(1)

    async def _receive(self) -> list[tuple[str, int]]:
        """The next announcement, with every other one that has already arrived;
        notifications go straight to their listeners, posts are returned."""
        announced: list[tuple[str, int]] = []
        message: Any = await self._pubsub.get_message(timeout=1.0)
        while message is not None and len(announced) < _HYDRATE_BATCH:
            channel, data = str(message.get("channel", "")), str(message.get("data", ""))
            if message.get("type") == "message":
                if data.isdigit():
                    announced.append((channel, int(data)))
                else:  # a notification's key: never all digits
                    self._deliver_key(channel, data)
            message = await self._pubsub.get_message(timeout=0)
        return announced

    def _deliver_key(self, channel: str, key: str) -> None:
        for listener in list(self._by_channel.get(channel, ())):
            if isinstance(listener, KeyListener) and not listener.put(key):
                self.dropped += 1

    async def announce_deleted(self, post_id: int) -> None:
        """Evicts a deleted post here at once, and in every other API process."""
        self._cache.evict(post_id)
        await self._redis.publish(self._keys.deleted_posts_channel, str(post_id))

    async def _deliver(self, announced: list[tuple[str, int]]) -> None:
        deleted = self._keys.deleted_posts_channel
        for channel, post_id in announced:
            if channel == deleted:
                self._cache.evict(post_id)
        announced = [(channel, post_id) for channel, post_id in announced if channel != deleted]
        # One lookup per post for the whole process, not one per subscriber: a
        # celebrity's post reaches thousands of sockets here at once.
        wanted = sorted({post_id for _, post_id in announced})
        found = self._cache.get_many(wanted)
        if missing := [post_id for post_id in wanted if post_id not in found]:
            fetched = await self._posts.get_many(missing)
            self._cache.put_many(fetched.values())
            found.update(fetched)
        for channel, post_id in announced:
            post = found.get(post_id)
            if post is None:  # deleted meanwhile: nothing to show
                continue
            for listener in list(self._by_channel.get(channel, ())):
                if isinstance(listener, Listener) and not listener.put(post):
                    self.dropped += 1

    async def _refresh_presence(self) -> None:
        while True:
            await asyncio.sleep(self._presence_seconds / 3)
            try:
                await self._mark_live({listener.user_id for listener in self._listeners})
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("refreshing live marks failed")

    async def _mark_live(self, user_ids: Sequence[str] | set[str]) -> None:
        if not user_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.set(self._keys.live_mark(user_id), "1", ex=self._presence_seconds)
            await pipe.execute()
