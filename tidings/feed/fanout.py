"""Fan-out on write: copy a new post's id into its readers' timelines."""

import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence

from tidings.feed.backfill import Backfill
from tidings.feed.celebrities import Celebrities
from tidings.feed.friend_lists import friend_chunks, reader_chunks
from tidings.feed.live import Announcer
from tidings.feed.queue import FanoutJob, JobKind
from tidings.feed.timeline import Delivery, TimelineStore
from tidings.stores.graph import FriendGraph
from tidings.stores.posts import PostStore

log = logging.getLogger(__name__)


class BoundedSet:
    """Remembers up to `size` items, forgetting the oldest first."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def __contains__(self, item: str) -> bool:
        return item in self._items

    def add(self, item: str) -> None:
        self._items[item] = None
        if len(self._items) > self._size:
            self._items.popitem(last=False)


class Fanout:
    """Carries out one queued job. Idempotent: a job may run more than once."""

    def __init__(
        self,
        graph: FriendGraph,
        timelines: TimelineStore,
        posts: PostStore,
        celebrities: Celebrities,
        announcer: Announcer,
        *,
        chunk_size: int,
        active_seconds: int,
        backfill_posts: int,
    ) -> None:
        self._graph = graph
        self._timelines = timelines
        self._posts = posts
        self._celebrities = celebrities
        self._announcer = announcer
        self._known_authors = BoundedSet(100_000)
        self._chunk_size = chunk_size
        self._active_seconds = active_seconds
        self._backfill = Backfill(posts, timelines, posts_per_author=backfill_posts)

    async def handle(self, job: FanoutJob) -> int:
        """Returns how many timelines the job wrote to."""
        if job.kind is JobKind.DELETE:
            return await self._retract(job)
        if job.kind is JobKind.BACKFILL:
            return await self._push_again(job.author_id)
        return await self.deliver(job)

    async def settle(self, post_ids: list[int]) -> None:
        """Clears the outbox mark of every delivered post, in one write."""
        await self._posts.mark_fanned_out(post_ids)

    async def deliver(self, job: FanoutJob) -> int:
        """Pushes a new post to its author and, unless a celebrity's, to active friends."""
        if job.author_id not in self._known_authors:
            # Authors become known to the graph (so `user(id)` finds them) once per
            # process, not once per post: it is a write.
            await self._graph.ensure_user(job.author_id)
            self._known_authors.add(job.author_id)
        # The author sees their own post at home, as every reader expects.
        delivered = await self._timelines.fan_out(job.post_id, [job.author_id], 0)
        if await self._celebrities.is_celebrity(job.author_id):
            # Too many readers to push to: they pull it when they read, and
            # subscribers hear of it on the celebrity's own channel.
            await self._announcer.celebrity_post(job.author_id, job.post_id)
            return delivered
        active_since = time.time() - self._active_seconds
        async for readers in reader_chunks(self._graph, job.author_id, self._chunk_size):
            delivered += await self._timelines.fan_out(job.post_id, readers, active_since)
        return delivered

    async def deliver_many(self, jobs: Sequence[FanoutJob]) -> int:
        """New posts, many at once: the same effect as `deliver` for each, with one
        graph query for all their authors and one pipeline of script calls to Redis
        for all their readers (per node on a Redis Cluster). An author with more
        friends than a chunk goes the way `deliver` goes."""
        authors = list(dict.fromkeys(job.author_id for job in jobs))
        unknown = [author for author in authors if author not in self._known_authors]
        if unknown:
            await self._graph.ensure_users(unknown)
            for author in unknown:
                self._known_authors.add(author)
        audiences = await self._graph.audiences(authors, self._chunk_size)
        active_since = time.time() - self._active_seconds
        # Each reader once, with every post of the batch it gets; an author sees
        # their own post at home whether they read lately or not.
        own: dict[str, list[int]] = {}
        pushed: dict[str, list[int]] = {}
        one_by_one: list[FanoutJob] = []
        for job in jobs:
            audience = audiences.get(job.author_id)
            if audience is None or (not audience.celebrity and audience.readers is None):
                one_by_one.append(job)  # too many friends for one reply
                continue
            own.setdefault(job.author_id, []).append(job.post_id)
            if audience.celebrity:
                await self._announcer.celebrity_post(job.author_id, job.post_id)
                continue
            for reader in audience.readers or ():
                pushed.setdefault(reader, []).append(job.post_id)
        deliveries = [Delivery(author, 0, posts) for author, posts in own.items()]
        deliveries += [Delivery(reader, active_since, posts) for reader, posts in pushed.items()]
        delivered = await self._timelines.fan_out_many(deliveries)
        for job in one_by_one:
            delivered += await self.deliver(job)
        return delivered

    async def _retract(self, job: FanoutJob) -> int:
        await self._timelines.remove_from_many(job.post_id, [job.author_id])
        touched = 1
        async for friends in self._friend_chunks(job.author_id):
            await self._timelines.remove_from_many(job.post_id, friends)
            touched += len(friends)
        return touched

    async def _push_again(self, author_id: str) -> int:
        """The author is pushed again: copy their recent posts to every friend's timeline."""
        post_ids = await self._backfill.recent(author_id)
        written = 0
        # Muters are skipped: they never pulled this author either.
        async for readers in reader_chunks(self._graph, author_id, self._chunk_size):
            written += await self._backfill.copy(post_ids, readers)
            # Only now may readers stop pulling this author.
            await self._celebrities.forget(readers)
        return written

    def _friend_chunks(self, user_id: str) -> AsyncIterator[list[str]]:
        # Chunked so an author with many friends never holds all ids, or one
        # giant pipeline, in memory at once.
        return friend_chunks(self._graph, user_id, self._chunk_size)
