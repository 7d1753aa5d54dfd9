"""Posts in MongoDB: the source of truth for every post ever accepted."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure
from pymongo.write_concern import WriteConcern

COLLECTION = "posts"
_AUTHOR_RECENT = "author_recent"
_RETENTION = "retention"
_AWAITING_FANOUT = "awaiting_fanout"
# When a post's fan-out is overdue. Set on every new post, in the same document
# write, and removed once it is fanned out: the post is its own outbox record, so
# no transaction is needed.
FANOUT_DUE = "fanout_due"


@dataclass(frozen=True, slots=True)
class PostDocument:
    id: int
    author_id: str
    body: str
    created_at: datetime
    client: str | None = None

    def to_mongo(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "_id": self.id,
            "author_id": self.author_id,
            "body": self.body,
            "created_at": self.created_at,
        }
        if self.client is not None:
            doc["client"] = self.client
        return doc

    @classmethod
    def from_mongo(cls, doc: dict[str, Any]) -> "PostDocument":
        return cls(
            id=doc["_id"],
            author_id=doc["author_id"],
            body=doc["body"],
            created_at=doc["created_at"],
            client=doc.get("client"),
        )


class PostIdTaken(Exception):
    """Another post already has this id; the caller picks a new one."""


class PostStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]]) -> None:
        # Journaled: once insert() returns, the post survives a server crash.
        self._posts: AsyncCollection[dict[str, Any]] = database.get_collection(
            COLLECTION, write_concern=WriteConcern(w="majority", j=True)
        )
        # Clearing the outbox flag needs no journal: if it is lost, the post is
        # fanned out once more, which changes nothing.
        self._flags = database.get_collection(COLLECTION, write_concern=WriteConcern(w=1))

    async def ensure_indexes(self, retention_days: int) -> None:
        # Serves "posts by these authors, older than this id, newest first".
        await self._posts.create_index(
            [("author_id", ASCENDING), ("_id", DESCENDING)], name=_AUTHOR_RECENT
        )
        await self._posts.create_index(
            FANOUT_DUE,
            name=_AWAITING_FANOUT,
            partialFilterExpression={FANOUT_DUE: {"$exists": True}},
        )
        expire_after = retention_days * 86_400
        try:
            await self._posts.create_index(
                "created_at", name=_RETENTION, expireAfterSeconds=expire_after
            )
        except OperationFailure:
            # The retention setting changed since the index was built: adjust it in place.
            await self._posts.database.command(
                "collMod",
                COLLECTION,
                index={"name": _RETENTION, "expireAfterSeconds": expire_after},
            )

    async def ping(self) -> None:
        await self._posts.database.command("ping")

    async def insert(self, post: PostDocument, fanout_due: datetime) -> None:
        try:
            await self._posts.insert_one({**post.to_mongo(), FANOUT_DUE: fanout_due})
        except DuplicateKeyError as error:
            raise PostIdTaken(post.id) from error

    async def insert_many(self, posts: Sequence[PostDocument]) -> None:
        """Bulk loading of history: already fanned out as far as the outbox cares."""
        if posts:
            await self._posts.insert_many([post.to_mongo() for post in posts], ordered=False)

    async def get_many(self, ids: Sequence[int]) -> dict[int, PostDocument]:
        """One round trip for any number of ids; missing ids are absent from the result."""
        if not ids:
            return {}
        cursor = self._posts.find({"_id": {"$in": list(set(ids))}})
        return {doc["_id"]: PostDocument.from_mongo(doc) async for doc in cursor}

    async def recent_by_authors(
        self,
        author_ids: Iterable[str],
        before_id: int | None,
        limit: int,
        *,
        since_id: int = 0,
    ) -> list[PostDocument]:
        """The newest `limit` posts by these authors with `since_id <= id < before_id`."""
        authors = sorted(set(author_ids))
        if not authors or limit <= 0:
            return []
        ids: dict[str, int] = {"$gte": since_id}
        if before_id is not None:
            ids["$lt"] = before_id
        query: dict[str, Any] = {"author_id": {"$in": authors}, "_id": ids}
        # Always bounded: SecantusDB sorts in memory after the index scan.
        cursor = self._posts.find(query).sort("_id", DESCENDING).limit(limit)
        return [PostDocument.from_mongo(doc) async for doc in cursor]

    async def ids_by_author(self, author_id: str, since_id: int, limit: int) -> list[int]:
        """Ids of the author's newest posts at or after `since_id`, newest first."""
        cursor = (
            self._posts.find({"author_id": author_id, "_id": {"$gte": since_id}}, {"_id": 1})
            .sort("_id", DESCENDING)
            .limit(limit)
        )
        return [doc["_id"] async for doc in cursor]

    async def mark_fanned_out(self, post_ids: Sequence[int]) -> None:
        if post_ids:
            await self._flags.update_many(
                {"_id": {"$in": list(post_ids)}}, {"$unset": {FANOUT_DUE: ""}}
            )

    async def overdue_fanouts(self, now: datetime, limit: int) -> list[tuple[int, str]]:
        """(id, author) of posts whose fan-out should have finished by `now`."""
        cursor = (
            self._posts.find({FANOUT_DUE: {"$lte": now}}, {"author_id": 1})
            .sort(FANOUT_DUE, ASCENDING)
            .limit(limit)
        )
        return [(doc["_id"], doc["author_id"]) async for doc in cursor]

    async def postpone_fanouts(self, post_ids: list[int], due: datetime) -> None:
        await self._flags.update_many(
            {"_id": {"$in": post_ids}, FANOUT_DUE: {"$exists": True}}, {"$set": {FANOUT_DUE: due}}
        )

    async def delete(self, post_id: int, author_id: str) -> bool:
        """Deletes the post if this author wrote it; False if there was no such post."""
        result = await self._posts.delete_one({"_id": post_id, "author_id": author_id})
        return result.deleted_count == 1
