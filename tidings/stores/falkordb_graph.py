"""The friend graph on FalkorDB, over the Redis protocol."""

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from falkordb.asyncio import FalkorDB
from redis.asyncio import BlockingConnectionPool
from redis.exceptions import ResponseError

from tidings.stores import cypher
from tidings.stores.graph import UserSummary


class FalkorDBGraph:
    def __init__(self, pool: BlockingConnectionPool, name: str) -> None:
        self._pool = pool
        self._db = FalkorDB(connection_pool=pool)
        self._graph = self._db.select_graph(name)

    @classmethod
    def from_url(cls, url: str, name: str) -> "FalkorDBGraph":
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
        )
        return cls(pool, name)

    async def _rows(self, query: str, params: dict[str, Any], *, read_only: bool) -> list[Any]:
        run = self._graph.ro_query if read_only else self._graph.query
        result = await run(query, params)
        return list(result.result_set)

    async def ensure_schema(self) -> None:
        try:
            await self._graph.query("CREATE INDEX FOR (u:User) ON (u.id)")
        except ResponseError as error:
            if "already indexed" not in str(error):
                raise

    async def ensure_user(self, user_id: str) -> None:
        await self._rows(cypher.ENSURE_USER, {"id": user_id}, read_only=False)

    async def add_friendship(self, user_id: str, friend_id: str) -> bool:
        rows = await self._rows(
            cypher.ADD_FRIENDSHIP, {"a": user_id, "b": friend_id}, read_only=False
        )
        return bool(rows[0][0] == 0)

    async def remove_friendship(self, user_id: str, friend_id: str) -> bool:
        rows = await self._rows(
            cypher.REMOVE_FRIENDSHIP, {"a": user_id, "b": friend_id}, read_only=False
        )
        return bool(rows[0][0] > 0)

    async def friends_page(self, user_id: str, after: str | None, limit: int) -> list[str]:
        rows = await self._rows(
            cypher.FRIENDS_PAGE,
            {"id": user_id, "after": after or "", "limit": limit},
            read_only=True,
        )
        return [str(row[0]) for row in rows]

    async def friends_with_at_least(self, user_id: str, min_friends: int) -> list[str]:
        rows = await self._rows(
            cypher.FRIENDS_WITH_AT_LEAST,
            {"id": user_id, "min_friends": min_friends},
            read_only=True,
        )
        return [str(row[0]) for row in rows]

    async def user_summaries(self, user_ids: Sequence[str]) -> list[UserSummary | None]:
        rows = await self._rows(cypher.USER_SUMMARIES, {"ids": list(user_ids)}, read_only=True)
        found = {row[0]: UserSummary(row[0], int(row[2])) for row in rows if row[1]}
        return [found.get(user_id) for user_id in user_ids]

    async def drop(self) -> None:
        try:
            await self._graph.delete()
        except ResponseError as error:
            if "empty key" not in str(error) and "Invalid graph" not in str(error):
                raise

    async def close(self) -> None:
        await self._db.aclose()
        await self._pool.aclose()
