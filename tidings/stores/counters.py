"""What a feed shows beside each post, kept together: its like, comment and
commenter counts and its first few comments, read for a whole page in one query.

A post's figures are the sums over up to `SHARDS` documents of one collection.
A change to a post that is hot right now (the caller says so: see feed/heat.py)
lands on the shard of the user who made it, so thousands of likes a second on a
celebrity's post update many documents, not one; any other change lands on
shard 0, which also holds the post's first comments. Most posts are therefore one
document, and any shard may take any change: the sum is the count. A count moves
only by what an insert or a delete actually changed; `recount` sets it to the
truth where a crash between the two writes left drift.
"""

import contextlib
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from tidings.stores.breaker import Breaker
from tidings.stores.expiry import expire_after

POST_STATS = "post_stats"
SHARDS = 16
# A post's first comments, kept on its first shard so a page shows each post's
# first few with its counts: more than a client shows (two), for those hidden
# by blocks.
FIRST_COMMENTS = 5


class Count(StrEnum):
    LIKES = "likes"
    COMMENTS = "comments"
    COMMENTERS = "commenters"


@dataclass(frozen=True, slots=True)
class PostStats:
    likes: int = 0
    comments: int = 0
    commenters: int = 0
    # The first comments as stored (documents of the comments collection), oldest first.
    first_comments: list[dict[str, Any]] = field(default_factory=list)


def _shard(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % SHARDS


def _first_shard(post_id: int) -> str:
    return f"{post_id}:0"


class PostStatsStore:
    def __init__(
        self,
        database: AsyncDatabase[dict[str, Any]],
        breaker: Breaker,
        posted_at: Callable[[int], datetime],
    ) -> None:
        self._stats = database.get_collection(POST_STATS)
        self._breaker = breaker
        # When a post was made, from its id: a post's figures expire with it.
        self._posted_at = posted_at

    def _created(self, post_id: int) -> dict[str, Any]:
        """What a new shard document starts with: its post, and when the post was made."""
        return {"post_id": post_id, "posted": self._posted_at(post_id)}

    async def ensure_indexes(self, retention_days: int) -> None:
        await self._stats.create_index("post_id", name="post")
        # A post's figures go with it: `posted` is the post's own creation time.
        await expire_after(self._stats, "posted", "retention", retention_days * 86_400)

    async def change(
        self, count: Count, post_id: int, user_id: str, by: int, *, spread: bool = False
    ) -> None:
        shard = _shard(user_id) if spread else 0
        await self._breaker.call(
            self._stats.update_one(
                {"_id": f"{post_id}:{shard}"},
                {"$inc": {count.value: by}, "$setOnInsert": self._created(post_id)},
                upsert=True,
            )
        )

    async def of(self, post_ids: Sequence[int]) -> dict[int, PostStats]:
        """Each post's figures (zeros for none), in one round trip."""
        if not post_ids:
            return {}
        wanted = {"post_id": {"$in": list(set(post_ids))}}
        shards: dict[int, list[dict[str, Any]]] = {}
        for shard in await self._breaker.call(self._stats.find(wanted).to_list()):
            shards.setdefault(shard["post_id"], []).append(shard)
        return {post_id: _summed(shards.get(post_id, [])) for post_id in post_ids}

    async def add_first_comment(self, post_id: int, comment: dict[str, Any]) -> None:
        """Into the post's first comments, if it is one of them. Once a post has
        its first few, later comments match nothing and write nothing here."""
        last = f"first.{FIRST_COMMENTS - 1}"
        belongs = {
            "_id": _first_shard(post_id),
            "first._id": {"$ne": comment["_id"]},
            "$or": [{last: {"$exists": False}}, {f"{last}._id": {"$gt": comment["_id"]}}],
        }
        earliest = {"$each": [comment], "$sort": {"_id": 1}, "$slice": FIRST_COMMENTS}
        update = {"$push": {"first": earliest}, "$setOnInsert": self._created(post_id)}
        # A duplicate key: the shard holds it already, or is full of earlier ones.
        with contextlib.suppress(DuplicateKeyError):
            await self._breaker.call(self._stats.update_one(belongs, update, upsert=True))

    async def remove_first_comment(self, post_id: int, comment_id: int) -> bool:
        """True if it was one of the post's first comments (the caller refills them)."""
        pulled = await self._breaker.call(
            self._stats.update_one(
                {"_id": _first_shard(post_id), "first._id": comment_id},
                {"$pull": {"first": {"_id": comment_id}}},
            )
        )
        return bool(pulled.modified_count)

    async def set_first_comments(self, post_id: int, comments: list[dict[str, Any]]) -> None:
        await self._breaker.call(
            self._stats.update_one(
                {"_id": _first_shard(post_id)},
                {
                    "$set": {"first": comments[:FIRST_COMMENTS]},
                    "$setOnInsert": self._created(post_id),
                },
                upsert=True,
            )
        )

    async def forget(self, post_id: int) -> None:
        await self._breaker.call(self._stats.delete_many({"post_id": post_id}))

    async def recount(self, count: Count, actual: Mapping[int, int]) -> dict[int, tuple[int, int]]:
        """Sets every post's `count` to `actual` (post id -> the true count, absent
        for 0); returns the posts whose stored count had drifted, with (stored, actual)."""
        stored: dict[int, int] = {}
        async for shard in self._stats.find({}, {"post_id": 1, count.value: 1}):
            post_id = shard["post_id"]
            stored[post_id] = stored.get(post_id, 0) + int(shard.get(count.value, 0))
        drifted = {
            post_id: (stored.get(post_id, 0), actual.get(post_id, 0))
            for post_id in set(actual) | set(stored)
            if stored.get(post_id, 0) != actual.get(post_id, 0)
        }
        for post_id, (_stored, true) in drifted.items():
            # The whole count on the first shard; the others' emptied.
            await self._stats.update_many({"post_id": post_id}, {"$set": {count.value: 0}})
            await self._stats.update_one(
                {"_id": _first_shard(post_id)},
                {"$set": {count.value: true}, "$setOnInsert": self._created(post_id)},
                upsert=True,
            )
        return drifted


def _summed(shards: list[dict[str, Any]]) -> PostStats:
    first: list[dict[str, Any]] = []
    for shard in shards:
        first = shard.get("first", first)
    return PostStats(
        likes=sum(int(shard.get(Count.LIKES.value, 0)) for shard in shards),
        comments=sum(int(shard.get(Count.COMMENTS.value, 0)) for shard in shards),
        commenters=sum(int(shard.get(Count.COMMENTERS.value, 0)) for shard in shards),
        first_comments=first,
    )


async def counts_by_post(collection: AsyncCollection[dict[str, Any]]) -> dict[int, int]:
    """How many documents of `collection` each post has: the truth a recount sets."""
    found: dict[int, int] = {}
    grouped = [{"$group": {"_id": "$post_id", "n": {"$sum": 1}}}]
    async for row in await collection.aggregate(grouped):
        found[row["_id"]] = int(row["n"])
    return found
