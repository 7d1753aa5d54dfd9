"""The fan-out worker process: startup, run until signalled, shutdown."""

import asyncio
import contextlib
import logging
import os
import signal
import socket

from prometheus_client import Gauge, start_http_server

from tidings.app.metrics import Metrics
from tidings.app.services import Services, open_services
from tidings.app.settings import Settings
from tidings.feed.fanout import FanoutWorker

log = logging.getLogger(__name__)


def consumer_name() -> str:
    # Unique per process, and readable in XINFO CONSUMERS.
    return f"{socket.gethostname()}-{os.getpid()}"


def worker_metrics(worker: FanoutWorker) -> tuple[Metrics, dict[str, Gauge]]:
    metrics = Metrics()
    metrics.counters(
        [
            ("tidings_fanout_deliveries", "Timelines written by fan-out", lambda: worker.delivered),
            ("tidings_fanout_failures", "Fan-out jobs that failed", lambda: worker.failed),
        ]
    )
    lag = metrics.lag("tidings_fanout_lag_seconds", "From a post's creation to its fan-out")
    worker.on_delivered = lag.observe
    gauges = {
        "length": metrics.gauge("tidings_fanout_stream_length", "Messages in the fan-out stream"),
        "pending": metrics.gauge("tidings_fanout_pending", "Messages read but not acknowledged"),
        "dead": metrics.gauge("tidings_fanout_dead_letters", "Messages in the dead-letter stream"),
    }
    return metrics, gauges


async def watch_queue(services: Services, gauges: dict[str, Gauge], stop: asyncio.Event) -> None:
    """Keeps the queue gauges current; they are read from Redis, not counted here."""
    while not stop.is_set():
        try:
            gauges["length"].set(await services.redis.xlen(services.queue.stream))
            gauges["pending"].set(await services.queue.pending_count())
            gauges["dead"].set(await services.redis.xlen(services.queue.dead_stream))
        except Exception:
            log.warning("could not read the queue's size", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 5)


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    async with open_services(settings) as services:
        worker = FanoutWorker(
            services.queue,
            services.fanout,
            consumer_name(),
            batch=settings.fanout_batch,
            claim_idle_ms=settings.fanout_claim_idle_ms,
            sweeper=services.outbox,
            sweep_every=settings.outbox_sweep_seconds,
        )
        metrics, gauges = worker_metrics(worker)
        exporter = None
        if settings.worker_metrics_port:
            exporter, _thread = start_http_server(
                settings.worker_metrics_port, addr=settings.host, registry=metrics.registry
            )
        watcher = asyncio.create_task(watch_queue(services, gauges, stop))
        log.info("fan-out worker %s started", consumer_name())
        try:
            await worker.run(stop)
        finally:
            stop.set()
            await watcher
            if exporter is not None:
                exporter.shutdown()
                exporter.server_close()
        log.info("fan-out worker stopped after %d deliveries", worker.delivered)


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
