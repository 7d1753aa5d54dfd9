"""Clearing delivered posts' outbox marks, once their deliveries are on disk."""

import asyncio
import contextlib
import logging

from tidings.feed.backoff import Backoff
from tidings.feed.fanout import Fanout
from tidings.feed.queue import FanoutQueue

log = logging.getLogger(__name__)


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

    def wake(self) -> None:
        """After `stop` is set: look at it now, not after the current wait."""
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
