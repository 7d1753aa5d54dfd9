"""Statistics and the closed-loop load generator every scenario measures with."""

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from tidings_tools.client import GraphQLFailure


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latency_summary(samples_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples_ms, 0.50), 2),
        "p95_ms": round(percentile(samples_ms, 0.95), 2),
        "p99_ms": round(percentile(samples_ms, 0.99), 2),
    }


def ratio(value: float, ceiling: float) -> float:
    return round(value / ceiling, 3) if ceiling else float("nan")


async def load(
    seconds: float, concurrency: int, request: Callable[[], Awaitable[None]]
) -> dict[str, float]:
    """Closed-loop load: `concurrency` clients, each sending its next request on reply."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                await request()
            except (httpx.HTTPError, GraphQLFailure):
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / elapsed, 1),
        **latency_summary(latencies),
    }
