"""The FriendGraph methods both adapters share: the same Cypher, the same reading of rows.

An adapter says how to run a query (`_rows`) and sets up its own schema.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from tidings.stores import cypher
from tidings.stores.breaker import Breaker
from tidings.stores.graph import (
    Audience,
    CelebrityChange,
    Relation,
    RelationList,
    RelationPosition,
    RequestOutcome,
    Suggestion,
    UserSummary,
)

_RELATION_PAGES = {
    RelationList.INCOMING_REQUESTS: cypher.INCOMING_REQUESTS_PAGE,
    RelationList.OUTGOING_REQUESTS: cypher.OUTGOING_REQUESTS_PAGE,
    RelationList.BLOCKED: cypher.BLOCKED_PAGE,
    RelationList.MUTED: cypher.MUTED_PAGE,
}
# Above any tie's time in ms: where a newest-first list starts.
_NEWEST = 1 << 62


class CypherGraph(ABC):
    # The adapter's constant-time count of `u`'s FRIEND edges (cypher.with_degree).
    degree: str

    def __init__(self, breaker: Breaker | None, bulk_deadline: float) -> None:
        self._update_celebrity = cypher.with_degree(cypher.UPDATE_CELEBRITY, self.degree)
        self._user_summaries = cypher.with_degree(cypher.USER_SUMMARIES, self.degree)
        self._audiences = cypher.with_degree(cypher.AUDIENCES, self.degree)
        # Every query under the graph's deadline and circuit breaker; bulk loading
        # (tools only) under a deadline of its own.
        self._breaker = breaker or Breaker("graph", deadline=bulk_deadline)
        self._bulk_deadline = bulk_deadline

    @abstractmethod
    async def _rows(self, text: str, params: dict[str, Any], *, read_only: bool) -> list[Any]:
        """Runs one shared query and returns its rows as sequences of values."""

    async def _run(
        self, text: str, params: dict[str, Any], *, read_only: bool, bulk: bool = False
    ) -> list[Any]:
        deadline = self._bulk_deadline if bulk else None
        return await self._breaker.call(
            self._rows(text, params, read_only=read_only), deadline=deadline
        )

    async def ensure_user(self, user_id: str) -> None:
        await self._run(cypher.ENSURE_USER, {"id": user_id}, read_only=False)

    async def request_friendship(
        self, user_id: str, other_id: str, *, max_pending: int, now_ms: int
    ) -> RequestOutcome:
        params = {"a": user_id, "b": other_id, "cap": max_pending, "now": now_ms}
        rows = await self._run(cypher.REQUEST_FRIENDSHIP, params, read_only=False)
        return RequestOutcome(rows[0][0])

    async def block(self, user_id: str, other_id: str, *, now_ms: int) -> bool:
        params = {"a": user_id, "b": other_id, "now": now_ms}
        rows = await self._run(cypher.BLOCK, params, read_only=False)
        return bool(rows[0][0] > 0)

    async def unblock(self, user_id: str, other_id: str) -> None:
        await self._run(cypher.UNBLOCK, {"a": user_id, "b": other_id}, read_only=False)

    async def mute(self, user_id: str, other_id: str, *, now_ms: int) -> None:
        params = {"a": user_id, "b": other_id, "now": now_ms}
        await self._run(cypher.MUTE, params, read_only=False)

    async def unmute(self, user_id: str, other_id: str) -> None:
        await self._run(cypher.UNMUTE, {"a": user_id, "b": other_id}, read_only=False)

    async def relations(self, viewer_id: str, user_ids: Sequence[str]) -> list[Relation]:
        params = {"viewer": viewer_id, "ids": list(dict.fromkeys(user_ids))}
        rows = await self._run(cypher.RELATIONS, params, read_only=True)
        found = {
            row[0]: Relation(
                friends=row[1] > 0,
                muted=row[2] > 0,
                blocked=row[3] > 0,
                sent=row[4] > 0,
                received=row[5] > 0,
            )
            for row in rows
        }
        return [found.get(user_id, Relation()) for user_id in user_ids]

    async def relations_page(
        self, user_id: str, kind: RelationList, after: RelationPosition | None, limit: int
    ) -> list[RelationPosition]:
        at, after_id = after or (_NEWEST, "")
        params = {"id": user_id, "at": at, "after": after_id, "limit": limit}
        rows = await self._run(_RELATION_PAGES[kind], params, read_only=True)
        return [(int(row[0]), str(row[1])) for row in rows]

    async def blocked_either_way(self, user_id: str, other_ids: Sequence[str]) -> set[str]:
        if not other_ids:
            return set()
        params = {"viewer": user_id, "ids": list(dict.fromkeys(other_ids))}
        rows = await self._run(cypher.BLOCKED_EITHER_WAY, params, read_only=True)
        return {str(row[0]) for row in rows}

    async def muters(self, author_id: str, limit: int) -> list[str]:
        params = {"id": author_id, "limit": limit}
        rows = await self._run(cypher.MUTERS, params, read_only=True)
        return [str(row[0]) for row in rows]

    async def audiences(self, author_ids: Sequence[str], limit: int) -> dict[str, Audience]:
        if not author_ids:
            return {}
        params = {"ids": list(dict.fromkeys(author_ids)), "limit": limit}
        rows = await self._run(self._audiences, params, read_only=True)
        found = {}
        for author_id, celebrity, friends, muters, readers in rows:
            walked = None
            if not celebrity and int(friends) <= limit:
                muted = set(muters)
                # A friendship may be stored both ways: each reader once.
                walked = [str(r) for r in dict.fromkeys(readers) if r not in muted]
            found[str(author_id)] = Audience(bool(celebrity), walked)
        return found

    async def add_friendship(self, user_id: str, friend_id: str) -> bool:
        params = {"a": user_id, "b": friend_id}
        rows = await self._run(cypher.ADD_FRIENDSHIP, params, read_only=False)
        return bool(rows[0][0] == 0)

    async def befriend_many(self, user_id: str, friend_ids: Sequence[str]) -> None:
        params = {"id": user_id, "friends": [f for f in friend_ids if f != user_id]}
        await self._run(cypher.BEFRIEND_MANY, params, read_only=False, bulk=True)

    async def ensure_users(self, user_ids: Sequence[str]) -> None:
        await self._run(cypher.ENSURE_USERS, {"ids": list(user_ids)}, read_only=False, bulk=True)

    async def create_friendships(self, groups: Sequence[tuple[str, Sequence[str]]]) -> None:
        params = {"groups": [[user, [f for f in friends if f != user]] for user, friends in groups]}
        await self._run(cypher.CREATE_FRIENDSHIPS, params, read_only=False, bulk=True)

    async def remove_friendship(self, user_id: str, friend_id: str) -> bool:
        params = {"a": user_id, "b": friend_id}
        rows = await self._run(cypher.REMOVE_FRIENDSHIP, params, read_only=False)
        return bool(rows[0][0] > 0)

    async def friends_page(self, user_id: str, after: str | None, limit: int) -> list[str]:
        params = {"id": user_id, "after": after or "", "limit": limit}
        rows = await self._run(cypher.FRIENDS_PAGE, params, read_only=True)
        return [str(row[0]) for row in rows]

    async def celebrity_friends(self, user_id: str) -> list[str]:
        rows = await self._run(cypher.CELEBRITY_FRIENDS, {"id": user_id}, read_only=True)
        return [str(row[0]) for row in rows]

    async def suggestions(
        self, user_id: str, limit: int, *, friends_walked: int, per_friend: int
    ) -> list[Suggestion]:
        rows = await self._run(
            cypher.SUGGESTIONS,
            {
                "id": user_id,
                "limit": limit,
                "friends_walked": friends_walked,
                "per_friend": per_friend,
            },
            read_only=True,
        )
        return [Suggestion(str(row[0]), int(row[1])) for row in rows]

    async def is_celebrity(self, user_id: str) -> bool:
        rows = await self._run(cypher.IS_CELEBRITY, {"id": user_id}, read_only=True)
        return bool(rows[0][0])

    async def update_celebrity(
        self, user_id: str, *, promote_at: int, demote_below: int
    ) -> CelebrityChange:
        params = {"id": user_id, "promote_at": promote_at, "demote_below": demote_below}
        rows = await self._run(self._update_celebrity, params, read_only=False)
        if not rows or rows[0][0] == rows[0][1]:
            return CelebrityChange.UNCHANGED
        return CelebrityChange.PROMOTED if rows[0][1] else CelebrityChange.DEMOTED

    async def mark_celebrities(self, user_ids: Sequence[str]) -> None:
        await self._run(
            cypher.MARK_CELEBRITIES, {"ids": list(user_ids)}, read_only=False, bulk=True
        )

    async def user_summaries(self, user_ids: Sequence[str]) -> list[UserSummary | None]:
        if not user_ids:
            return []
        rows = await self._run(self._user_summaries, {"ids": list(user_ids)}, read_only=True)
        found = {int(row[0]): UserSummary(str(row[1]), int(row[3])) for row in rows if row[2]}
        return [found.get(position) for position in range(len(user_ids))]
