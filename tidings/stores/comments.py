"""Comments in MongoDB: objects of their own (they repeat, unlike likes), each with
a time-ordered id, and counts and the first few per post kept with the post's
other figures (counters.py).

Beside them, who commented on a post (one document per post and commenter, with
how many comments and when the last one came) and how many did: what a post's
author is told ("ann and 3 others commented"), kept as comments come and go.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from tidings.stores.breaker import Breaker
from tidings.stores.counters import FIRST_COMMENTS, Count, PostStatsStore, counts_by_post
from tidings.stores.expiry import expire_after

COMMENTS = "comments"
COMMENTERS = "commenters"
_IDEMPOTENCY_KEY = "idempotency_key"


@dataclass(frozen=True, slots=True)
class CommentDocument:
    id: int
    post_id: int
    author_id: str
    body: str
    created_at: datetime

    def to_mongo(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "post_id": self.post_id,
            "author_id": self.author_id,
            "body": self.body,
            "created_at": self.created_at,
        }

    @classmethod
    def from_mongo(cls, doc: dict[str, Any]) -> "CommentDocument":
        return cls(doc["_id"], doc["post_id"], doc["author_id"], doc["body"], doc["created_at"])


class CommentIdTaken(Exception):
    """Another comment has this id; the caller takes a new one."""


class CommentStore:
    def __init__(
        self, database: AsyncDatabase[dict[str, Any]], breaker: Breaker, stats: PostStatsStore
    ) -> None:
        self._breaker = breaker
        # Journaled, as posts are: an accepted comment survives a crash.
        self._comments = database.get_collection(
            COMMENTS, write_concern=WriteConcern(w="majority", j=True)
        )
        self._stats = stats
        self._commenters = database.get_collection(COMMENTERS)

    async def ensure_indexes(self, retention_days: int) -> None:
        # A post's thread, oldest first, keyset on the time-ordered id.
        await self._comments.create_index(
            [("post_id", ASCENDING), ("_id", ASCENDING)], name="thread"
        )
        # A retry of addComment with the same key finds the first comment.
        await self._comments.create_index(
            [("author_id", ASCENDING), (_IDEMPOTENCY_KEY, ASCENDING)],
            name="author_idempotency",
            unique=True,
            partialFilterExpression={_IDEMPOTENCY_KEY: {"$exists": True}},
        )
        # A post's commenters, the latest to comment first.
        await self._commenters.create_index(
            [("post_id", ASCENDING), ("last_at", DESCENDING), ("user_id", DESCENDING)],
            name="latest",
        )
        # Comments and commenters came after their post: they go once it has.
        retention = retention_days * 86_400
        await expire_after(self._comments, "created_at", "retention", retention)
        await expire_after(self._commenters, "last_at", "retention", retention)

    async def insert(
        self, comment: CommentDocument, idempotency_key: str | None, *, spread: bool = False
    ) -> CommentDocument:
        """Stores the comment and counts it; returns it, or the author's comment
        stored under the same key (counted once). `spread`: the post is hot, its
        counts change on the author's shard."""
        document = comment.to_mongo()
        if idempotency_key is not None:
            document[_IDEMPOTENCY_KEY] = idempotency_key
        try:
            await self._breaker.call(self._comments.insert_one(document))
        except DuplicateKeyError as error:
            if idempotency_key is not None:
                earlier = await self.by_idempotency_key(comment.author_id, idempotency_key)
                if earlier is not None:
                    return earlier  # a retry that raced its first attempt
            raise CommentIdTaken(comment.id) from error
        await self._stats.change(
            Count.COMMENTS, comment.post_id, comment.author_id, +1, spread=spread
        )
        noted = await self._breaker.call(
            self._commenters.update_one(
                {"_id": _commenter(comment.post_id, comment.author_id)},
                {
                    "$inc": {"n": 1},
                    "$max": {"last_at": comment.created_at},
                    "$setOnInsert": {"post_id": comment.post_id, "user_id": comment.author_id},
                },
                upsert=True,
            )
        )
        if noted.upserted_id is not None:
            await self._stats.change(
                Count.COMMENTERS, comment.post_id, comment.author_id, +1, spread=spread
            )
        await self._stats.add_first_comment(comment.post_id, comment.to_mongo())
        return comment

    async def by_idempotency_key(self, author_id: str, key: str) -> CommentDocument | None:
        query = {"author_id": author_id, _IDEMPOTENCY_KEY: key}
        found = await self._breaker.call(self._comments.find_one(query))
        return None if found is None else CommentDocument.from_mongo(found)

    async def get(self, comment_id: int) -> CommentDocument | None:
        found = await self._breaker.call(self._comments.find_one({"_id": comment_id}))
        return None if found is None else CommentDocument.from_mongo(found)

    async def delete(self, comment: CommentDocument, *, spread: bool = False) -> bool:
        """Deletes it and uncounts it; False if it was gone already."""
        removed = await self._breaker.call(self._comments.delete_one({"_id": comment.id}))
        if removed.deleted_count != 1:
            return False
        await self._stats.change(
            Count.COMMENTS, comment.post_id, comment.author_id, -1, spread=spread
        )
        commenter = _commenter(comment.post_id, comment.author_id)
        left = await self._breaker.call(
            self._commenters.find_one_and_update(
                {"_id": commenter}, {"$inc": {"n": -1}}, return_document=ReturnDocument.AFTER
            )
        )
        if left is not None and left["n"] <= 0:
            # Conditional: a comment added meanwhile keeps them a commenter.
            gone = await self._breaker.call(
                self._commenters.delete_one({"_id": commenter, "n": {"$lte": 0}})
            )
            if gone.deleted_count == 1:
                await self._stats.change(
                    Count.COMMENTERS, comment.post_id, comment.author_id, -1, spread=spread
                )
        if await self._stats.remove_first_comment(comment.post_id, comment.id):
            # The next in line takes its place among the post's first comments.
            first = await self.thread(comment.post_id, None, FIRST_COMMENTS)
            await self._stats.set_first_comments(comment.post_id, [c.to_mongo() for c in first])
        return True

    async def thread(self, post_id: int, after: int | None, limit: int) -> list[CommentDocument]:
        """The post's comments, oldest first, with ids above `after`."""
        query: dict[str, Any] = {"post_id": post_id}
        if after is not None:
            query["_id"] = {"$gt": after}
        # Always bounded: SecantusDB sorts in memory after the index scan.
        cursor = self._comments.find(query).sort("_id", ASCENDING).limit(limit)
        return [
            CommentDocument.from_mongo(doc) for doc in await self._breaker.call(cursor.to_list())
        ]

    async def newest_commenters(self, post_id: int, limit: int) -> list[tuple[str, datetime]]:
        """Who commented on the post, the latest to comment first, with when."""
        cursor = (
            self._commenters.find({"post_id": post_id}, {"user_id": 1, "last_at": 1})
            .sort([("last_at", DESCENDING), ("user_id", DESCENDING)])
            .limit(limit)
        )
        return [(c["user_id"], c["last_at"]) for c in await self._breaker.call(cursor.to_list())]

    async def commented(self, pairs: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (post, user) have comments, in one round trip."""
        if not pairs:
            return set()
        wanted = [_commenter(post_id, user_id) for post_id, user_id in set(pairs)]
        cursor = self._commenters.find({"_id": {"$in": wanted}}, {"post_id": 1, "user_id": 1})
        found = await self._breaker.call(cursor.to_list())
        return {(c["post_id"], c["user_id"]) for c in found}

    async def newest_not_by(self, post_id: int, author_id: str) -> CommentDocument | None:
        """The post's newest comment by anyone but `author_id`."""
        cursor = (
            self._comments.find({"post_id": post_id, "author_id": {"$ne": author_id}})
            .sort("_id", DESCENDING)
            .limit(1)
        )
        found = await self._breaker.call(cursor.to_list())
        return CommentDocument.from_mongo(found[0]) if found else None

    async def get_many(self, comment_ids: Sequence[int]) -> dict[int, CommentDocument]:
        if not comment_ids:
            return {}
        cursor = self._comments.find({"_id": {"$in": list(set(comment_ids))}})
        found = await self._breaker.call(cursor.to_list())
        return {doc["_id"]: CommentDocument.from_mongo(doc) for doc in found}

    async def forget_post(self, post_id: int) -> None:
        """A deleted post's comments, commenters and counts."""
        await self._breaker.call(self._comments.delete_many({"post_id": post_id}))
        await self._breaker.call(self._commenters.delete_many({"post_id": post_id}))
        await self._stats.forget(post_id)

    async def recount(self) -> dict[int, tuple[int, int]]:
        """Comment counts and commenter counts set to what exists; the posts whose
        comment count had drifted, with (stored, actual)."""
        await self._stats.recount(Count.COMMENTERS, await counts_by_post(self._commenters))
        return await self._stats.recount(Count.COMMENTS, await counts_by_post(self._comments))


def _commenter(post_id: int, user_id: str) -> str:
    return f"{post_id}:{user_id}"
