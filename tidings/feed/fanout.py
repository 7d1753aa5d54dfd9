"""Fan-out on write: copy a new post's id into its readers' timelines."""

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from tidings.feed.backoff import Backoff
from tidings.feed.celebrities import Celebrities
from tidings.feed.friend_lists import friend_chunks, reader_chunks
from tidings.feed.ids import post_id_time
from tidings.feed.live import Announcer
from tidings.feed.outbox import OutboxSweeper
from tidings.feed.queue import FanoutJob, FanoutQueue, JobKind
from tidings.feed.timeline import TimelineStore
from tidings.stores.breaker import StoreUnavailable
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
        self._backfill_posts = backfill_posts

    async def handle(self, job: FanoutJob) -> int:
        """Returns how many timelines the job wrote to."""
        if job.kind is JobKind.DELETE:
            return await self._retract(job)
        if job.kind is JobKind.BACKFILL:
            return await self._backfill(job.author_id)
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

    async def _retract(self, job: FanoutJob) -> int:
        await self._timelines.remove_from_many(job.post_id, [job.author_id])
        touched = 1
        async for friends in self._friend_chunks(job.author_id):
            await self._timelines.remove_from_many(job.post_id, friends)
            touched += len(friends)
        return touched

    async def _backfill(self, author_id: str) -> int:
        """The author is pushed again: copy their recent posts to every friend's timeline."""
        recent = await self._posts.recent_by_authors([author_id], None, self._backfill_posts)
        post_ids = [post.id for post in recent]
        written = 0
        # Muters are skipped: they never pulled this author either.
        async for readers in reader_chunks(self._graph, author_id, self._chunk_size):
            written += await self._timelines.add_to_many(readers, post_ids)
            # Only now may readers stop pulling this author.
            await self._celebrities.forget(readers)
        return written

    def _friend_chunks(self, user_id: str) -> AsyncIterator[list[str]]:
        # Chunked so an author with many friends never holds all ids, or one
        # giant pipeline, in memory at once.
        return friend_chunks(self._graph, user_id, self._chunk_size)


class Settler:
    """Clears posts' outbox marks only once Redis has their deliveries on disk.

    Redis writes its AOF to disk once a second: a crash loses the last second of
    writes. A cleared mark would then leave a delivery nobody redoes. So marks are
    cleared after WAITAOF confirms the deliveries are written, in the background,
    one wait covering every post delivered meanwhile: fan-out never waits for the
    disk. Until then a mark stays, and a crash only means the outbox sweeper
    enqueues the post again, which changes nothing.
    """

    def __init__(
        self, fanout: Fanout, queue: FanoutQueue, *, wait_for_disk: bool, disk_wait_ms: int
    ) -> None:
        self._fanout = fanout
        self._queue = queue
        self._wait_for_disk = wait_for_disk
        # Within the store's deadline, so a slow disk never trips the breaker.
        self._disk_wait_ms = disk_wait_ms
        self._delivered: list[int] = []
        self._ready = asyncio.Event()

    def delivered(self, post_ids: list[int]) -> None:
        if post_ids:
            self._delivered += post_ids
            self._ready.set()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        while not (stop.is_set() and not self._delivered):
            if not self._delivered:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ready.wait(), 0.5)
                self._ready.clear()
                continue
            batch, self._delivered = self._delivered, []
            try:
                # Shutting down, only a glance: what is not on disk yet stays marked.
                wait_ms = 1 if stop.is_set() else self._disk_wait_ms
                if self._wait_for_disk and not await self._queue.wait_for_disk(timeout_ms=wait_ms):
                    if stop.is_set():
                        return  # shutting down: the marks stay, the sweeper redoes these
                    # Not on disk yet (the AOF is synced once a second): wait again,
                    # with whatever is delivered meanwhile.
                    self._delivered = batch + self._delivered
                    continue
                await self._fanout.settle(batch)
                backoff.reset()
            except Exception as error:  # the marks stay; the sweeper redoes these posts
                log.warning("could not settle %d posts: %r", len(batch), error)
                if stop.is_set():
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff.next_delay())


class FanoutWorker:
    """Reads the queue in a consumer group until asked to stop."""

    def __init__(
        self,
        queue: FanoutQueue,
        fanout: Fanout,
        consumer: str,
        *,
        batch: int,
        claim_idle_ms: int,
        sweeper: OutboxSweeper | None = None,
        sweep_every: float = 10.0,
        block_ms: int = 1_000,
        wait_for_disk: bool = False,
    ) -> None:
        self._queue = queue
        self._fanout = fanout
        self._consumer = consumer
        self._batch = batch
        self._claim_idle_ms = claim_idle_ms
        self._sweeper = sweeper
        self._sweep_every = sweep_every
        self._block_ms = block_ms
        self._backoff = Backoff()
        self._settler = Settler(
            fanout, queue, wait_for_disk=wait_for_disk, disk_wait_ms=max(1, block_ms)
        )
        self.delivered = 0
        self.failed = 0
        # Seconds from a post's creation to the end of its fan-out, for a histogram.
        self.on_delivered: Callable[[float], None] = lambda _lag: None

    async def run(self, stop: asyncio.Event) -> None:
        settled = asyncio.Event()
        settling = asyncio.create_task(self._settler.run(settled), name="fanout-settler")
        try:
            await self._run(stop)
        finally:
            settled.set()  # settles what was delivered, then returns
            await settling

    async def _run(self, stop: asyncio.Event) -> None:
        await self._queue.ensure_group()
        next_claim = next_sweep = 0.0
        while not stop.is_set():
            try:
                if self._sweeper is not None and time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self._sweep_every
                    await self._sweeper.sweep()
                jobs: list[FanoutJob] = []
                if time.monotonic() >= next_claim:
                    # Messages left pending by a consumer that died mid-batch.
                    jobs = await self._queue.claim_stale(
                        self._consumer, self._claim_idle_ms, self._batch
                    )
                    if not jobs:
                        next_claim = time.monotonic() + self._claim_idle_ms / 2000
                if not jobs:
                    jobs = await self._queue.read(self._consumer, self._batch, self._block_ms)
                await self._process(jobs)
                self._backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # A store is down or restarting: wait it out, longer each time, and
                # never exit. Unacknowledged messages stay pending, claimed later.
                delay = self._backoff.next_delay()
                if isinstance(error, StoreUnavailable):
                    log.warning("fan-out paused: %s; retrying in %.1fs", error, delay)
                else:
                    log.exception("fan-out batch failed; retrying in %.1fs", delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)

    async def _process(self, jobs: list[FanoutJob]) -> None:
        done: list[FanoutJob] = []
        for job in jobs:
            try:
                self.delivered += await self._fanout.handle(job)
            except Exception as error:
                # Left pending: claimed again after the idle timeout, and buried in
                # the dead-letter stream, with this error, once out of attempts.
                self.failed += 1
                log.exception("fan-out job %s failed", job.message_id)
                await self._queue.record_failure(job.message_id, f"{type(error).__name__}: {error}")
                continue
            done.append(job)
            if job.kind is JobKind.POST:
                self.on_delivered((datetime.now(UTC) - post_id_time(job.post_id)).total_seconds())
        # Acknowledge only after the timeline writes: a crash before this line
        # means the jobs run again, which is harmless.
        await self._queue.ack([job.message_id for job in done])
        self._settler.delivered([job.post_id for job in done if job.kind is JobKind.POST])
