"""Redis clients: one pool per process, built by whoever owns its lifetime."""

from typing import cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster


def connect_redis(url: str, *, cluster: bool = False, max_connections: int = 64) -> "Redis":
    """A client for one server, or for a Redis Cluster reached through any of its nodes.

    Connections are opened lazily, never at import time.
    """
    if cluster:
        client = RedisCluster.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=5,
            socket_timeout=10,
            max_connections=max_connections,
        )
        # The cluster client offers the same commands; callers that need to know
        # (scripts cannot be pipelined on it) are told through settings.
        return cast(Redis, client)
    # A blocking pool: past `max_connections` a command waits (up to 5 s) for a
    # free connection instead of failing, so a burst of requests queues rather
    # than erroring.
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
