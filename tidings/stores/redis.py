"""Redis clients: one pool per process, built by whoever owns its lifetime."""

from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from tidings.stores.breaker import Breaker


class GuardedPipeline(Pipeline):
    breaker: Breaker

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        return await self.breaker.call(super().execute(raise_on_error))


class GuardedRedis(Redis):
    """Every command and pipeline under the store's deadline and circuit breaker."""

    breaker: Breaker

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        command = super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        return await self.breaker.call(command)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        pipe = GuardedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )
        pipe.breaker = self.breaker
        return pipe


def connect_redis(
    url: str,
    *,
    cluster: bool = False,
    max_connections: int = 64,
    breaker: Breaker | None = None,
    timeout: float = 10.0,
) -> "Redis":
    """A client for one server, or for a Redis Cluster reached through any of its nodes.

    With a breaker, every call runs under its deadline and fails fast while the
    server is known to be down. Connections are opened lazily, never at import time.
    """
    if cluster:
        cluster_client = RedisCluster.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            max_connections=max_connections,
        )
        # The cluster client offers the same commands; callers that need to know
        # (scripts cannot be pipelined on it) are told through settings. Its own
        # node-by-node failover replaces the breaker.
        return cast(Redis, cluster_client)
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        # A burst past max_connections waits this long for a connection, no longer.
        timeout=timeout,
        decode_responses=True,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        # No silent retries: a down server must cost one deadline, not four.
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )
    if breaker is None:
        return Redis.from_pool(pool)  # the client owns the pool: aclose() closes both
    guarded = cast(GuardedRedis, GuardedRedis.from_pool(pool))
    guarded.breaker = breaker
    return guarded
