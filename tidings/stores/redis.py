"""Redis clients: one pool per process, built by whoever owns its lifetime."""

from redis.asyncio import Redis


def connect_redis(url: str) -> "Redis":
    # Connections are opened lazily, on first use, never at import time.
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=5,
        # Above the fan-out stream's 1 s blocking read; a stuck server fails a
        # request instead of hanging it.
        socket_timeout=10,
        health_check_interval=30,
        max_connections=64,
    )
