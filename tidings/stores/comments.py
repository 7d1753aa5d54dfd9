"""Comments in MongoDB: objects of their own (they repeat, unlike likes), each with
a time-ordered id, and a count per post kept beside them (counters.py).

Beside them, who commented on a post (one document per post and commenter, with
how many comments and when the last one came) and how many did: what a post's
author is told ("ann and 3 others commented"), kept as comments come and go.
"""

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from tidings.stores.breaker import Breaker
from tidings.stores.counters import ShardedCounts, counts_by_post

COMMENTS = "comments"
COMMENT_COUNTS = "comment_counts"
COMMENTERS = "commenters"
PREVIEWS = "comment_previews"
# A post's first comments, kept together so a page shows each post's first few in
# one query: more than a client shows (two), for those hidden by blocks.
PREVIEW = 5
COMMENTER_COUNTS = "commenter_counts"
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
    def __init__(self, database: AsyncDatabase[dict[str, Any]], breaker: Breaker) -> None:
        self._breaker = breaker
        # Journaled, as posts are: an accepted comment survives a crash.
        self._comments = database.get_collection(
            COMMENTS, write_concern=WriteConcern(w="majority", j=True)
        )
        self._counts = ShardedCounts(database.get_collection(COMMENT_COUNTS), breaker)
        self._commenters = database.get_collection(COMMENTERS)
        self._previews = database.get_collection(PREVIEWS)
        self._commenter_counts = ShardedCounts(database.get_collection(COMMENTER_COUNTS), breaker)

    async def ensure_indexes(self) -> None:
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
        await self._counts.ensure_indexes()
        # A post's commenters, the latest to comment first.
        await self._commenters.create_index(
            [("post_id", ASCENDING), ("last_at", DESCENDING), ("user_id", DESCENDING)],
            name="latest",
        )
        await self._commenter_counts.ensure_indexes()

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
        await self._counts.change(comment.post_id, comment.author_id, +1, spread=spread)
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
            await self._commenter_counts.change(
                comment.post_id, comment.author_id, +1, spread=spread
            )
        await self._preview_add(comment)
        return comment

    async def _preview_add(self, comment: CommentDocument) -> None:
        """Into the post's first comments, if it is one of them. A hot post's preview
        is full after its first few: later comments match nothing and write nothing."""
        last = f"first.{PREVIEW - 1}"
        belongs = {
            "_id": comment.post_id,
            "first._id": {"$ne": comment.id},
            "$or": [{last: {"$exists": False}}, {f"{last}._id": {"$gt": comment.id}}],
        }
        earliest = {"$each": [comment.to_mongo()], "$sort": {"_id": 1}, "$slice": PREVIEW}
        # A duplicate key: the preview holds it already, or is full of earlier ones.
        with contextlib.suppress(DuplicateKeyError):
            await self._breaker.call(
                self._previews.update_one(belongs, {"$push": {"first": earliest}}, upsert=True)
            )

    async def _preview_remove(self, comment: CommentDocument) -> None:
        """Out of the post's first comments; the next one in line takes its place."""
        pulled = await self._breaker.call(
            self._previews.update_one(
                {"_id": comment.post_id, "first._id": comment.id},
                {"$pull": {"first": {"_id": comment.id}}},
            )
        )
        if pulled.modified_count:
            first = await self.thread(comment.post_id, None, PREVIEW)
            await self._breaker.call(
                self._previews.update_one(
                    {"_id": comment.post_id},
                    {"$set": {"first": [c.to_mongo() for c in first]}},
                )
            )

    async def previews(self, post_ids: Sequence[int]) -> dict[int, list[CommentDocument]]:
        """Each post's first `PREVIEW` comments, oldest first (all, if it has fewer),
        in one round trip."""
        found: dict[int, list[CommentDocument]] = {post_id: [] for post_id in post_ids}
        if not post_ids:
            return found
        cursor = self._previews.find({"_id": {"$in": list(set(post_ids))}})
        for preview in await self._breaker.call(cursor.to_list()):
            found[preview["_id"]] = [CommentDocument.from_mongo(c) for c in preview["first"]]
        return found

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
        await self._counts.change(comment.post_id, comment.author_id, -1, spread=spread)
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
                await self._commenter_counts.change(
                    comment.post_id, comment.author_id, -1, spread=spread
                )
        await self._preview_remove(comment)
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

    async def counts(self, post_ids: Sequence[int]) -> dict[int, int]:
        return await self._counts.totals(post_ids)

    async def newest_commenters(self, post_id: int, limit: int) -> list[tuple[str, datetime]]:
        """Who commented on the post, the latest to comment first, with when."""
        cursor = (
            self._commenters.find({"post_id": post_id}, {"user_id": 1, "last_at": 1})
            .sort([("last_at", DESCENDING), ("user_id", DESCENDING)])
            .limit(limit)
        )
        return [(c["user_id"], c["last_at"]) for c in await self._breaker.call(cursor.to_list())]

    async def commenter_counts(self, post_ids: Sequence[int]) -> dict[int, int]:
        """How many people commented on each post."""
        return await self._commenter_counts.totals(post_ids)

    async def has_commented(self, user_id: str, post_id: int) -> bool:
        found = await self._breaker.call(
            self._commenters.find_one({"_id": _commenter(post_id, user_id)}, {"_id": 1})
        )
        return found is not None

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
        await self._breaker.call(self._previews.delete_one({"_id": post_id}))
        await self._counts.forget(post_id)
        await self._commenter_counts.forget(post_id)

    async def recount(self) -> dict[int, tuple[int, int]]:
        """Comment counts and commenter counts set to what exists; the posts whose
        comment count had drifted, with (stored, actual)."""
        await self._commenter_counts.recount(await counts_by_post(self._commenters))
        return await self._counts.recount(await counts_by_post(self._comments))


def _commenter(post_id: int, user_id: str) -> str:
    return f"{post_id}:{user_id}"
