"""Likes in MongoDB: one document per (post, user), and counts kept beside them.

A like is an association, added at most once: the unique (post, user) index
makes a second like of the same post by the same user a no-op, however many race.
A post's count is spread over `COUNTER_SHARDS` counter documents (a user's like
always lands on the same one), so thousands of likes a second on a celebrity's
post update many documents, not one hot one; a count is the sum of its shards,
read for a whole page in one query. A counter moves only by what an insert or a
delete actually changed, so concurrent likes and unlikes never make it drift;
only a crash between the two writes can, and `tidings recount` repairs that.
"""

import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from tidings.stores.breaker import Breaker

LIKES = "likes"
LIKE_COUNTS = "like_counts"
COUNTER_SHARDS = 16

# A position in a post's likers, newest first: when (ms), and who.
LikerPosition = tuple[int, str]


def _shard(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % COUNTER_SHARDS


class LikeStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]], breaker: Breaker) -> None:
        self._breaker = breaker
        self._likes = database.get_collection(LIKES)
        self._counts = database.get_collection(LIKE_COUNTS)

    async def ensure_indexes(self) -> None:
        # One like per (post, user); also serves "which of these posts did I like".
        await self._likes.create_index(
            [("post_id", ASCENDING), ("user_id", ASCENDING)], name="one_like", unique=True
        )
        # A post's likers, newest first, keyset-paged.
        await self._likes.create_index(
            [("post_id", ASCENDING), ("at", DESCENDING), ("user_id", DESCENDING)],
            name="likers",
        )
        await self._counts.create_index([("post_id", ASCENDING)], name="post")

    async def like(self, post_id: int, user_id: str, at_ms: int) -> bool:
        """Records the like; False if it was there already (nothing changes)."""
        document = {
            "post_id": post_id,
            "user_id": user_id,
            "at": datetime.fromtimestamp(at_ms / 1000, UTC),
        }
        try:
            await self._breaker.call(self._likes.insert_one(document))
        except DuplicateKeyError:
            return False
        await self._count(post_id, user_id, +1)
        return True

    async def unlike(self, post_id: int, user_id: str) -> bool:
        """Removes the like; False if there was none (nothing changes)."""
        removed = await self._breaker.call(
            self._likes.delete_one({"post_id": post_id, "user_id": user_id})
        )
        if removed.deleted_count != 1:
            return False
        await self._count(post_id, user_id, -1)
        return True

    async def _count(self, post_id: int, user_id: str, change: int) -> None:
        shard = _shard(user_id)
        await self._breaker.call(
            self._counts.update_one(
                {"_id": f"{post_id}:{shard}"},
                {"$inc": {"n": change}, "$setOnInsert": {"post_id": post_id}},
                upsert=True,
            )
        )

    async def counts(self, post_ids: Sequence[int]) -> dict[int, int]:
        """Each post's like count (0 for none), in one round trip for the page."""
        found = dict.fromkeys(post_ids, 0)
        if not post_ids:
            return found
        cursor = self._counts.find(
            {"post_id": {"$in": list(set(post_ids))}}, {"post_id": 1, "n": 1}
        )
        for shard in await self._breaker.call(cursor.to_list()):
            found[shard["post_id"]] += int(shard["n"])
        return found

    async def liked_by(self, user_id: str, post_ids: Sequence[int]) -> set[int]:
        """Which of these posts the user likes, in one round trip."""
        if not post_ids:
            return set()
        cursor = self._likes.find(
            {"post_id": {"$in": list(set(post_ids))}, "user_id": user_id}, {"post_id": 1}
        )
        return {like["post_id"] for like in await self._breaker.call(cursor.to_list())}

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
        await self._breaker.call(self._counts.delete_many({"post_id": post_id}))

    async def recount(self) -> dict[int, tuple[int, int]]:
        """Sets every post's count to the likes that exist; returns the posts whose
        stored count had drifted, with (stored, actual)."""
        actual: dict[int, int] = {}
        async for row in await self._likes.aggregate(
            [{"$group": {"_id": "$post_id", "n": {"$sum": 1}}}]
        ):
            actual[row["_id"]] = int(row["n"])
        stored: dict[int, int] = {}
        async for shard in self._counts.find({}, {"post_id": 1, "n": 1}):
            stored[shard["post_id"]] = stored.get(shard["post_id"], 0) + int(shard["n"])
        drifted = {
            post_id: (stored.get(post_id, 0), actual.get(post_id, 0))
            for post_id in set(actual) | set(stored)
            if stored.get(post_id, 0) != actual.get(post_id, 0)
        }
        for post_id in drifted:
            # The whole count on its first shard; the others emptied.
            await self._counts.delete_many({"post_id": post_id})
            if actual.get(post_id, 0):
                await self._counts.insert_one(
                    {"_id": f"{post_id}:0", "post_id": post_id, "n": actual[post_id]}
                )
        return drifted
