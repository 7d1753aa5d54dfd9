"""Deadlines and circuit breakers for store calls: a failing store costs microseconds.

Every call to a store runs under a deadline. A store that failed `threshold`
times in a row is considered down for `cool_down` seconds: calls then fail at
once with StoreUnavailable instead of each waiting out its deadline. After the
cool-down one call is let through to probe; its success closes the breaker.
"""

import asyncio
import time
from collections.abc import Awaitable
from enum import StrEnum
from typing import TypeVar

import redis.exceptions
from pymongo import errors as mongo_errors

T = TypeVar("T")

# What a store's client raises when the store is unreachable, slow or restarting,
# as opposed to a bad request: these open the breaker and answer UNAVAILABLE.
OUTAGES: tuple[type[BaseException], ...] = (
    TimeoutError,
    ConnectionError,
    OSError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,
    mongo_errors.ConnectionFailure,  # AutoReconnect, NetworkTimeout, ServerSelectionTimeout...
    mongo_errors.ExecutionTimeout,
    mongo_errors.WTimeoutError,
)


def _neo4j_outages() -> tuple[type[BaseException], ...]:
    try:
        from neo4j import exceptions
    except ImportError:  # pragma: no cover  (the driver is a dependency)
        return ()
    # A refused password (a rotated secret, a misconfiguration) leaves the graph
    # as unusable as a crash does: UNAVAILABLE and /readyz failing, not INTERNAL.
    return (exceptions.ServiceUnavailable, exceptions.SessionExpired, exceptions.AuthError)


OUTAGES += _neo4j_outages()


class StoreUnavailable(Exception):
    """A store is down or too slow; the caller may retry after `retry_after` seconds."""

    def __init__(self, store: str, retry_after: int) -> None:
        super().__init__(f"{store} is unavailable")
        self.store = store
        self.retry_after = retry_after


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once
    HALF_OPEN = "half_open"  # one call probes


class Breaker:
    def __init__(
        self, store: str, *, deadline: float, threshold: int = 3, cool_down: float = 2.0
    ) -> None:
        self.store = store
        self.deadline = deadline
        self._threshold = threshold
        self._cool_down = cool_down
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self.rejected = 0  # calls failed at once while open
        self.trips = 0

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if time.monotonic() - self._opened_at < self._cool_down:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def _retry_after(self) -> int:
        return max(1, round(self._cool_down))

    def check(self) -> None:
        """Raises at once if the store is known to be down."""
        state = self.state
        if state is BreakerState.OPEN or (state is BreakerState.HALF_OPEN and self._probing):
            self.rejected += 1
            raise StoreUnavailable(self.store, self._retry_after())
        if state is BreakerState.HALF_OPEN:
            self._probing = True

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def failed(self) -> None:
        self._failures += 1
        self._probing = False
        if self._opened_at is not None or self._failures >= self._threshold:
            if self._opened_at is None:
                self.trips += 1
            self._opened_at = time.monotonic()

    async def call(self, operation: Awaitable[T], *, deadline: float | None = None) -> T:
        """Awaits one store operation under the deadline, through the breaker."""
        try:
            self.check()
        except StoreUnavailable:
            if asyncio.iscoroutine(operation):
                operation.close()  # never started: no "never awaited" warning
            raise
        try:
            async with asyncio.timeout(self.deadline if deadline is None else deadline):
                result = await operation
        except OUTAGES as error:
            self.failed()
            raise StoreUnavailable(self.store, self._retry_after()) from error
        except BaseException:
            # The store answered (with an error of the request's making): it is up.
            self._probing = False
            raise
        self.succeeded()
        return result
