"""Exponential backoff with full jitter: how a process waits out a store's outage
without all processes knocking again at the same instant."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class Backoff:
    def __init__(self, base: float = 0.2, cap: float = 10.0) -> None:
        self._base = base
        self._cap = cap
        self._attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self._cap, self._base * 2**self._attempt)
        self._attempt += 1
        return random.uniform(0, ceiling)

    def reset(self) -> None:
        self._attempt = 0


async def with_retries(
    what: str, operation: Callable[[], Awaitable[T]], *, give_up_after: float
) -> T:
    """Runs `operation` until it succeeds, backing off between tries, for at most
    `give_up_after` seconds: a process starting while a store restarts waits for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    backoff = Backoff()
    while True:
        try:
            return await operation()
        except Exception as error:
            delay = backoff.next_delay()
            if loop.time() + delay > deadline:
                raise
            log.warning("%s failed (%r); retrying in %.1fs", what, error, delay)
            await asyncio.sleep(delay)
