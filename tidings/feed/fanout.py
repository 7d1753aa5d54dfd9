"""Fan-out on write: copy a new post's id into its readers' timelines."""

import asyncio
import contextlib
import logging
import time

from tidings.feed.queue import FanoutJob, FanoutQueue
from tidings.feed.timeline import TimelineStore
from tidings.stores.graph import FriendGraph

log = logging.getLogger(__name__)


class Fanout:
    """Delivers one post. Idempotent: a job may run more than once."""

    def __init__(self, graph: FriendGraph, timelines: TimelineStore, chunk_size: int) -> None:
        self._graph = graph
        self._timelines = timelines
        self._chunk_size = chunk_size

    async def deliver(self, job: FanoutJob) -> int:
        """Returns how many timelines received the post (the author's own included)."""
        await self._graph.ensure_user(job.author_id)
        # The author sees their own post at home, as every reader expects.
        await self._timelines.push(job.post_id, [job.author_id])
        delivered, after = 1, None
        # Chunked so an author with many friends never holds all ids, or one
        # giant pipeline, in memory at once.
        while True:
            friends = await self._graph.friends_page(job.author_id, after, self._chunk_size)
            if not friends:
                return delivered
            await self._timelines.push(job.post_id, friends)
            delivered += len(friends)
            if len(friends) < self._chunk_size:
                return delivered
            after = friends[-1]


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
        block_ms: int = 1_000,
        retry_delay: float = 1.0,
    ) -> None:
        self._queue = queue
        self._fanout = fanout
        self._consumer = consumer
        self._batch = batch
        self._claim_idle_ms = claim_idle_ms
        self._block_ms = block_ms
        self._retry_delay = retry_delay
        self.delivered = 0

    async def run(self, stop: asyncio.Event) -> None:
        await self._queue.ensure_group()
        next_claim = 0.0
        while not stop.is_set():
            try:
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
            except asyncio.CancelledError:
                raise
            except Exception:
                # Unacknowledged messages stay pending and are claimed again later.
                log.exception("fan-out batch failed; retrying in %.1fs", self._retry_delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._retry_delay)

    async def _process(self, jobs: list[FanoutJob]) -> None:
        for job in jobs:
            self.delivered += await self._fanout.deliver(job)
            # Acknowledge only after the timeline writes: a crash before this
            # line means the job runs again, which is harmless.
            await self._queue.ack([job.message_id])
