"""Redis clients: one pool per process, built by whoever owns its lifetime."""

from redis.asyncio import BlockingConnectionPool, Redis


def connect_redis(url: str, max_connections: int = 64) -> "Redis":
    # A blocking pool: past `max_connections` a command waits (up to 5 s) for a
    # free connection instead of failing, so a burst of requests queues rather
    # than erroring. Connections are opened lazily, never at import time.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=5,
        decode_responses=True,
        socket_connect_timeout=5,
        # Above the fan-out stream's 1 s blocking read; a stuck server fails a
        # request instead of hanging it.
        socket_timeout=10,
        health_check_interval=30,
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes both
