"""The fan-out worker process: startup, run until signalled, shutdown."""

import asyncio
import logging
import os
import signal
import socket

from tidings.app.services import open_services
from tidings.app.settings import Settings
from tidings.feed.fanout import FanoutWorker

log = logging.getLogger(__name__)


def consumer_name() -> str:
    # Unique per process, and readable in XINFO CONSUMERS.
    return f"{socket.gethostname()}-{os.getpid()}"


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
        log.info("fan-out worker %s started", consumer_name())
        await worker.run(stop)
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
