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
        )
        log.info("fan-out worker %s started", consumer_name())
        await worker.run(stop)
        log.info("fan-out worker stopped after %d deliveries", worker.delivered)


async def main(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Finish the batch in hand, acknowledge it, then exit 0.
        loop.add_signal_handler(signum, stop.set)
    await run_worker(settings, stop)
