"""Comments in MongoDB: objects of their own (they repeat, unlike likes), each with
a time-ordered id, and a count per post kept beside them (counters.py)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from tidings.stores.breaker import Breaker
from tidings.stores.counters import ShardedCounts, counts_by_post

COMMENTS = "comments"
COMMENT_COUNTS = "comment_counts"
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

    async def insert(
        self, comment: CommentDocument, idempotency_key: str | None
    ) -> CommentDocument:
        """Stores the comment and counts it; returns it, or the author's comment
        stored under the same key (counted once)."""
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
        await self._counts.change(comment.post_id, comment.author_id, +1)
        return comment

    async def by_idempotency_key(self, author_id: str, key: str) -> CommentDocument | None:
        query = {"author_id": author_id, _IDEMPOTENCY_KEY: key}
        found = await self._breaker.call(self._comments.find_one(query))
        return None if found is None else CommentDocument.from_mongo(found)

    async def get(self, comment_id: int) -> CommentDocument | None:
        found = await self._breaker.call(self._comments.find_one({"_id": comment_id}))
        return None if found is None else CommentDocument.from_mongo(found)

    async def delete(self, comment: CommentDocument) -> bool:
        """Deletes it and uncounts it; False if it was gone already."""
        removed = await self._breaker.call(self._comments.delete_one({"_id": comment.id}))
        if removed.deleted_count != 1:
            return False
        await self._counts.change(comment.post_id, comment.author_id, -1)
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

    async def forget_post(self, post_id: int) -> None:
        """A deleted post's comments and counts."""
        await self._breaker.call(self._comments.delete_many({"post_id": post_id}))
        await self._counts.forget(post_id)

    async def recount(self) -> dict[int, tuple[int, int]]:
        return await self._counts.recount(await counts_by_post(self._comments))
