"""Likes in MongoDB: one document per (post, user), and counts kept beside them.

A like is an association, added at most once: its id is (post, user), so a
second like of the same post by the same user is a no-op, however many race, and
"which of these posts did I like" is a lookup by id. Counts are kept with the
post's other figures (counters.py): a hot post does not serialise on one
document, and a count moves only by what an insert or a delete changed.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from tidings.stores.breaker import Breaker
from tidings.stores.counters import Count, PostStatsStore, counts_by_post
from tidings.stores.expiry import expire_after

LIKES = "likes"

# A position in a post's likers, newest first: when (ms), and who.
LikerPosition = tuple[int, str]


class LikeStore:
    def __init__(
        self, database: AsyncDatabase[dict[str, Any]], breaker: Breaker, stats: PostStatsStore
    ) -> None:
        self._breaker = breaker
        self._likes = database.get_collection(LIKES)
        self._stats = stats

    async def ensure_indexes(self, retention_days: int) -> None:
        # A post's likers, newest first, keyset-paged.
        await self._likes.create_index(
            [("post_id", ASCENDING), ("at", DESCENDING), ("user_id", DESCENDING)],
            name="likers",
        )
        # A like outlives its post (it came after it): it goes once the post has.
        await expire_after(self._likes, "at", "retention", retention_days * 86_400)

    async def like(self, post_id: int, user_id: str, at_ms: int, *, spread: bool = False) -> bool:
        """Records the like; False if it was there already (nothing changes).
        `spread`: the post is hot, its count changes on the user's shard."""
        document = {
            "_id": _like_id(post_id, user_id),
            "post_id": post_id,
            "user_id": user_id,
            "at": datetime.fromtimestamp(at_ms / 1000, UTC),
        }
        try:
            await self._breaker.call(self._likes.insert_one(document))
        except DuplicateKeyError:
            return False
        await self._stats.change(Count.LIKES, post_id, user_id, +1, spread=spread)
        return True

    async def unlike(self, post_id: int, user_id: str, *, spread: bool = False) -> bool:
        """Removes the like; False if there was none (nothing changes)."""
        removed = await self._breaker.call(
            self._likes.delete_one({"_id": _like_id(post_id, user_id)})
        )
        if removed.deleted_count != 1:
            return False
        await self._stats.change(Count.LIKES, post_id, user_id, -1, spread=spread)
        return True

    async def liked_by(self, user_id: str, post_ids: Sequence[int]) -> set[int]:
        """Which of these posts the user likes, in one round trip."""
        return {post_id for post_id, _ in await self.liked([(p, user_id) for p in post_ids])}

    async def liked(self, pairs: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (post, user) likes exist, in one round trip."""
        if not pairs:
            return set()
        wanted = [_like_id(post_id, user_id) for post_id, user_id in set(pairs)]
        cursor = self._likes.find({"_id": {"$in": wanted}}, {"post_id": 1, "user_id": 1})
        found = await self._breaker.call(cursor.to_list())
        return {(like["post_id"], like["user_id"]) for like in found}

    async def likers(
        self, post_id: int, after: LikerPosition | None, limit: int
    ) -> list[LikerPosition]:
        """The post's likers, newest first, strictly after `after`."""
        query: dict[str, Any] = {"post_id": post_id}
        if after is not None:
            at = datetime.fromtimestamp(after[0] / 1000, UTC)
            query["$or"] = [{"at": {"$lt": at}}, {"at": at, "user_id": {"$lt": after[1]}}]
        cursor = (
            self._likes.find(query, {"at": 1, "user_id": 1})
            .sort([("at", DESCENDING), ("user_id", DESCENDING)])
            .limit(limit)
        )
        return [
            (int(like["at"].timestamp() * 1000), like["user_id"])
            for like in await self._breaker.call(cursor.to_list())
        ]

    async def forget_post(self, post_id: int) -> None:
        """A deleted post's likes and counts."""
        await self._breaker.call(self._likes.delete_many({"post_id": post_id}))
        await self._stats.forget(post_id)

    async def recount(self) -> dict[int, tuple[int, int]]:
        """Sets every post's count to the likes that exist; returns the posts whose
        stored count had drifted, with (stored, actual)."""
        return await self._stats.recount(Count.LIKES, await counts_by_post(self._likes))


def _like_id(post_id: int, user_id: str) -> str:
    return f"{post_id}:{user_id}"
