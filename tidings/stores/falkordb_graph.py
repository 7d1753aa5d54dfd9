"""The friend graph on FalkorDB, over the Redis protocol."""

from typing import Any
from urllib.parse import urlsplit

from falkordb.asyncio import FalkorDB
from redis.asyncio import BlockingConnectionPool
from redis.exceptions import ResponseError

from tidings.stores.breaker import Breaker
from tidings.stores.cypher_graph import CypherGraph


class FalkorDBGraph(CypherGraph):
    degree = "indegree(u, 'FRIEND') + outdegree(u, 'FRIEND')"

    def __init__(
        self,
        pool: BlockingConnectionPool,
        name: str,
        breaker: Breaker | None = None,
        bulk_deadline: float = 120.0,
    ) -> None:
        super().__init__(breaker, bulk_deadline)
        self._pool = pool
        self._db = FalkorDB(connection_pool=pool)
        self._graph = self._db.select_graph(name)

    @classmethod
    def from_url(
        cls,
        url: str,
        name: str,
        breaker: Breaker | None = None,
        bulk_deadline: float = 120.0,
    ) -> "FalkorDBGraph":
        parts = urlsplit(url)
        pool = BlockingConnectionPool(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            username=parts.username,
            password=parts.password,
            decode_responses=True,
            max_connections=32,
            timeout=5,
            socket_connect_timeout=5,
            # The breaker's deadline bounds each query; the socket's, bulk loads.
            socket_timeout=bulk_deadline,
        )
        return cls(pool, name, breaker, bulk_deadline)

    async def _rows(self, query: str, params: dict[str, Any], *, read_only: bool) -> list[Any]:
        run = self._graph.ro_query if read_only else self._graph.query
        result = await run(query, params)
        return list(result.result_set)

    async def ensure_schema(self) -> None:
        try:
            await self._run("CREATE INDEX FOR (u:User) ON (u.id)", {}, read_only=False)
        except ResponseError as error:
            if "already indexed" not in str(error):
                raise

    async def drop(self) -> None:
        try:
            await self._graph.delete()
        except ResponseError as error:
            if "empty key" not in str(error) and "Invalid graph" not in str(error):
                raise

    async def close(self) -> None:
        await self._db.aclose()
        await self._pool.aclose()
