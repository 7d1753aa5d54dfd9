"""The fan-out worker process: what it builds, in which order; run until signalled.

Startup opens the stores, prepares their schemas, composes fan-out, the outbox
sweeper and the queue reader, registers their metrics and serves them on a port
of their own; shutdown undoes that in reverse (arq's worker shape).
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Gauge

from tidings.app import components
from tidings.app.metrics import Metrics
from tidings.app.settings import Settings
from tidings.app.stores import Stores, open_stores, prepare_schemas
from tidings.feed.backoff import with_retries
from tidings.feed.fanout import Fanout
from tidings.feed.fanout_worker import FanoutWorker
from tidings.feed.keys import Keys
from tidings.feed.live import Announcer
from tidings.feed.media_processor import MediaProcessor
from tidings.feed.notifier import Notifier
from tidings.feed.outbox import OutboxSweeper
from tidings.feed.queue import FanoutQueue

log = logging.getLogger(__name__)


def consumer_name() -> str:
    # Unique per process, and readable in XINFO CONSUMERS.
    return f"{socket.gethostname()}-{os.getpid()}"


def build_fanout(stores: Stores, settings: Settings, keys: Keys) -> Fanout:
    return Fanout(
        stores.graph,
        components.timeline_store(stores, settings, keys),
        stores.posts,
        components.celebrities(stores, settings, keys),
        Announcer(stores.redis, keys),
        chunk_size=settings.fanout_chunk,
        active_seconds=settings.active_days * 86_400,
        backfill_posts=settings.backfill_posts,
    )


def build_notifier(stores: Stores, settings: Settings, keys: Keys) -> Notifier:
    return Notifier(
        components.changed_groups(stores, settings, keys),
        components.notification_writer(stores, keys),
        stores.posts,
        stores.likes,
        stores.comments,
        stores.stats,
    )


def build_media_processor(stores: Stores, settings: Settings) -> MediaProcessor | None:
    if stores.objects is None:
        return None  # no bucket configured: media is off
    return MediaProcessor(
        stores.media,
        stores.objects,
        concurrency=settings.media_concurrency,
        claim_seconds=settings.media_claim_seconds,
        poll_seconds=settings.media_poll_seconds,
        sweep_seconds=settings.media_sweep_seconds,
        stray_seconds=settings.media_stray_seconds,
    )


@dataclass(frozen=True)
class WorkerProcess:
    worker: FanoutWorker
    notifier: Notifier
    media: MediaProcessor | None
    queue: FanoutQueue
    metrics: Metrics


@asynccontextmanager
async def worker_process(settings: Settings) -> AsyncIterator[WorkerProcess]:
    """Everything one worker process runs, from startup to shutdown."""
    async with AsyncExitStack() as stack:
        stores = await stack.enter_async_context(open_stores(settings))
        keys = Keys(settings.namespace)
        queue = components.fanout_queue(stores, settings, keys)

        async def prepare() -> None:
            await prepare_schemas(stores, settings)
            await queue.ensure_group()

        # A worker starting while a store restarts waits for it.
        await with_retries("worker start-up", prepare, give_up_after=settings.startup_seconds)
        worker = FanoutWorker(
            queue,
            build_fanout(stores, settings, keys),
            consumer_name(),
            batch=settings.fanout_batch,
            claim_idle_ms=settings.fanout_claim_idle_ms,
            sweeper=OutboxSweeper(
                stores.redis,
                keys,
                stores.posts,
                queue,
                retry_after=timedelta(seconds=settings.outbox_deadline_seconds),
            ),
            sweep_every=settings.outbox_sweep_seconds,
            # Blocking reads return within the store deadline, so they never trip it,
            # and within the setting: how long a stopping worker may wait for one.
            block_ms=min(settings.fanout_block_ms, int(settings.store_timeout_seconds * 500)),
            disk_wait_ms=int(settings.store_timeout_seconds * 500),
            # One server with an AOF: settle only deliveries on disk (WAITAOF). A
            # cluster would need a wait per primary: not done, see the README.
            wait_for_disk=settings.fanout_wait_for_disk and not settings.redis_cluster,
        )

        notifier = build_notifier(stores, settings, keys)
        media = build_media_processor(stores, settings)

        metrics = Metrics()
        metrics.counters(
            [
                *(
                    [
                        (
                            "tidings_media_processed",
                            "Photos made READY",
                            lambda: media.processed,
                        ),
                        ("tidings_media_failed", "Photos settled FAILED", lambda: media.failed),
                        (
                            "tidings_media_swept",
                            "Expired media records and stray objects removed",
                            lambda: media.swept,
                        ),
                    ]
                    if media
                    else []
                ),
                (
                    "tidings_fanout_deliveries",
                    "Timelines written by fan-out",
                    lambda: worker.delivered,
                ),
                ("tidings_fanout_failures", "Fan-out jobs that failed", lambda: worker.failed),
                (
                    "tidings_notification_groups_written",
                    "Notification groups written (a hot post's burst of likes is one)",
                    lambda: notifier.written,
                ),
                (
                    "tidings_notifier_failures",
                    "Notifier passes that failed (their groups are written again)",
                    lambda: notifier.failed,
                ),
            ]
        )
        worker.on_delivered = metrics.lag(
            "tidings_fanout_lag_seconds", "From a post's creation to its fan-out"
        ).observe
        if settings.worker_metrics_port:
            stack.callback(metrics.serve(settings.host, settings.worker_metrics_port))
        metrics.breakers(stores.breakers)
        yield WorkerProcess(worker, notifier, media, queue, metrics)


async def watch_queue(process: WorkerProcess, stop: asyncio.Event) -> None:
    """Keeps the queue gauges current; they are read from Redis, not counted here."""
    gauges: dict[str, Gauge] = {
        "length": process.metrics.gauge(
            "tidings_fanout_stream_length", "Messages in the fan-out stream"
        ),
        "pending": process.metrics.gauge(
            "tidings_fanout_pending", "Messages read but not acknowledged"
        ),
        "dead": process.metrics.gauge(
            "tidings_fanout_dead_letters", "Messages in the dead-letter stream"
        ),
    }
    while not stop.is_set():
        try:
            sizes = await process.queue.sizes()
            gauges["length"].set(sizes.length)
            gauges["pending"].set(sizes.pending)
            gauges["dead"].set(sizes.dead_letters)
        except Exception:
            log.warning("could not read the queue's size", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 5)


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    async with worker_process(settings) as process:
        watcher = asyncio.create_task(watch_queue(process, stop))
        notifying = asyncio.create_task(process.notifier.run(stop), name="notifier")
        side_tasks = [watcher, notifying]
        if process.media is not None:
            side_tasks.append(asyncio.create_task(process.media.run(stop), name="media"))
        log.info("fan-out worker %s started", consumer_name())
        try:
            await process.worker.run(stop)
        finally:
            stop.set()
            for task in side_tasks:
                await task
        log.info("fan-out worker stopped after %d deliveries", process.worker.delivered)


async def main(settings: Settings) -> None:
    """Runs until SIGINT or SIGTERM; then finishes the batch in hand and exits 0.

    A batch that has not finished within the grace period is abandoned: its
    unacknowledged messages are claimed by another worker. A second signal
    abandons it at once.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    running = asyncio.create_task(run_worker(settings, stop))

    def on_signal() -> None:
        if stop.is_set():
            running.cancel()
            return
        stop.set()
        loop.call_later(settings.shutdown_grace_seconds, running.cancel)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    try:
        await running
    except asyncio.CancelledError:
        log.warning("fan-out batch abandoned at shutdown; its messages stay pending")
