"""The fan-out worker's loop: read the queue in a consumer group, carry out each job,
acknowledge it once done, until asked to stop."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from tidings.feed.backoff import Backoff
from tidings.feed.fanout import Fanout
from tidings.feed.ids import post_id_time
from tidings.feed.outbox import OutboxSweeper
from tidings.feed.queue import FanoutJob, FanoutQueue, JobKind
from tidings.feed.settling import Settler
from tidings.stores.breaker import OUTAGES, StoreUnavailable

log = logging.getLogger(__name__)


def _runs(jobs: list[FanoutJob]) -> list[list[FanoutJob]]:
    """The jobs in stream order, consecutive new posts together, any other job alone."""
    runs: list[list[FanoutJob]] = []
    for job in jobs:
        if job.kind is JobKind.POST and runs and runs[-1][0].kind is JobKind.POST:
            runs[-1].append(job)
        else:
            runs.append([job])
    return runs


# A store down, restarting or too slow: not the job's fault.
_OUTAGES: tuple[type[BaseException], ...] = (*OUTAGES, StoreUnavailable)


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
        disk_wait_ms: int | None = None,
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
            fanout,
            queue,
            wait_for_disk=wait_for_disk,
            disk_wait_ms=max(1, block_ms if disk_wait_ms is None else disk_wait_ms),
        )
        self.delivered = 0
        self.failed = 0
        # Set when a job failed because a store was down: the worker then retries
        # what it holds itself, once the store answers, before reading new jobs.
        self._retry_own = False
        # Seconds from a post's creation to the end of its fan-out, for a histogram.
        self.on_delivered: Callable[[float], None] = lambda _lag: None

    async def run(self, stop: asyncio.Event) -> None:
        settled = asyncio.Event()
        settling = asyncio.create_task(self._settler.run(settled), name="fanout-settler")
        try:
            await self._run(stop)
        finally:
            settled.set()  # settles what was delivered, then returns
            self._settler.wake()
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
                if self._retry_own:
                    # One pass over what it holds (a job that fails for its own
                    # reasons is left for the claim and the dead letters, as ever).
                    self._retry_own = False
                    jobs = await self._queue.own_pending(self._consumer, self._batch)
                if not jobs and time.monotonic() >= next_claim:
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
                # never exit. Unacknowledged messages stay pending: retried by this
                # worker (see _process) or claimed later.
                delay = self._backoff.next_delay()
                if isinstance(error, _OUTAGES):
                    log.warning("fan-out paused: %s; retrying in %.1fs", error, delay)
                else:
                    log.exception("fan-out batch failed; retrying in %.1fs", delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)

    async def _process(self, jobs: list[FanoutJob], *, batched: bool = True) -> None:
        done: list[FanoutJob] = []
        outage: BaseException | None = None
        for run in _runs(jobs) if batched else [[job] for job in jobs]:
            try:
                if len(run) > 1:
                    # New posts in a row: one graph query and one pipeline for all.
                    self.delivered += await self._fanout.deliver_many(run)
                else:
                    self.delivered += await self._fanout.handle(run[0])
            except _OUTAGES as error:
                # Not the jobs' fault: they and the rest of the batch stay pending,
                # and this worker retries them as soon as the store answers again
                # (after the loop's backoff), not after the claim timeout. Repeating
                # them changes nothing: every effect is idempotent.
                self.failed += 1
                self._retry_own = True
                outage = error
                with contextlib.suppress(*_OUTAGES):  # Redis itself may be the one down
                    await self._queue.record_failure(
                        run[0].message_id, f"{type(error).__name__}: {error}"
                    )
                break
            except Exception as error:
                if len(run) > 1:
                    # One of them is at fault: find which, one job at a time.
                    log.warning("a batch of %d posts failed (%r); one at a time", len(run), error)
                    try:
                        await self._process(run, batched=False)
                    except _OUTAGES as failed_again:
                        outage = failed_again
                        break
                    continue
                # Left pending: claimed again after the idle timeout, and buried in
                # the dead-letter stream, with this error, once out of attempts.
                self.failed += 1
                log.exception("fan-out job %s failed", run[0].message_id)
                await self._queue.record_failure(
                    run[0].message_id, f"{type(error).__name__}: {error}"
                )
                continue
            done += run
            now = datetime.now(UTC)
            for job in run:
                if job.kind is JobKind.POST:
                    self.on_delivered((now - post_id_time(job.post_id)).total_seconds())
        # Acknowledge only after the timeline writes: a crash before this line
        # means the jobs run again, which is harmless.
        await self._queue.ack([job.message_id for job in done])
        self._settler.delivered([job.post_id for job in done if job.kind is JobKind.POST])
        if outage is not None:
            raise outage  # the loop backs off, then retries what is left
