"""The FriendGraph methods both adapters share: the same Cypher, the same reading of rows.

An adapter says how to run a query (`_rows`) and sets up its own schema.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from tidings.stores import cypher
from tidings.stores.graph import UserSummary


class CypherGraph(ABC):
    @abstractmethod
    async def _rows(self, text: str, params: dict[str, Any], *, read_only: bool) -> list[Any]:
        """Runs one shared query and returns its rows as sequences of values."""

    async def ensure_user(self, user_id: str) -> None:
        await self._rows(cypher.ENSURE_USER, {"id": user_id}, read_only=False)

    async def add_friendship(self, user_id: str, friend_id: str) -> bool:
        params = {"a": user_id, "b": friend_id}
        rows = await self._rows(cypher.ADD_FRIENDSHIP, params, read_only=False)
        return bool(rows[0][0] == 0)

    async def befriend_many(self, user_id: str, friend_ids: Sequence[str]) -> None:
        params = {"id": user_id, "friends": [f for f in friend_ids if f != user_id]}
        await self._rows(cypher.BEFRIEND_MANY, params, read_only=False)

    async def ensure_users(self, user_ids: Sequence[str]) -> None:
        await self._rows(cypher.ENSURE_USERS, {"ids": list(user_ids)}, read_only=False)

    async def create_friendships(self, pairs: Sequence[tuple[str, str]]) -> None:
        params = {"pairs": [[a, b] for a, b in pairs if a != b]}
        await self._rows(cypher.CREATE_FRIENDSHIPS, params, read_only=False)

    async def remove_friendship(self, user_id: str, friend_id: str) -> bool:
        params = {"a": user_id, "b": friend_id}
        rows = await self._rows(cypher.REMOVE_FRIENDSHIP, params, read_only=False)
        return bool(rows[0][0] > 0)

    async def friends_page(self, user_id: str, after: str | None, limit: int) -> list[str]:
        params = {"id": user_id, "after": after or "", "limit": limit}
        rows = await self._rows(cypher.FRIENDS_PAGE, params, read_only=True)
        return [str(row[0]) for row in rows]

    async def friends_with_at_least(self, user_id: str, min_friends: int) -> list[str]:
        params = {"id": user_id, "min_friends": min_friends}
        rows = await self._rows(cypher.FRIENDS_WITH_AT_LEAST, params, read_only=True)
        return [str(row[0]) for row in rows]

    async def count_friends_up_to(self, user_id: str, limit: int) -> int:
        params = {"id": user_id, "n": limit}
        rows = await self._rows(cypher.COUNT_FRIENDS_UP_TO, params, read_only=True)
        return int(rows[0][0])

    async def user_summaries(self, user_ids: Sequence[str]) -> list[UserSummary | None]:
        rows = await self._rows(cypher.USER_SUMMARIES, {"ids": list(user_ids)}, read_only=True)
        found = {row[0]: UserSummary(row[0], int(row[2])) for row in rows if row[1]}
        return [found.get(user_id) for user_id in user_ids]
