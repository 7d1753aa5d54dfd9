"""Posts in MongoDB: the source of truth for every post ever accepted."""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.write_concern import WriteConcern

from tidings.stores.breaker import Breaker
from tidings.stores.expiry import expire_after

COLLECTION = "posts"
_AUTHOR_RECENT = "author_recent"
_RETENTION = "retention"
_AWAITING_FANOUT = "awaiting_fanout"
_AUTHOR_IDEMPOTENCY = "author_idempotency"
# The client's key for a createPost, kept so a retry returns the first post.
IDEMPOTENCY_KEY = "idempotency_key"
# When a post's fan-out is overdue. Set on every new post, in the same document
# write, and removed once it is fanned out: the post is its own outbox record, so
# no transaction is needed.
FANOUT_DUE = "fanout_due"
# A transaction that lost a write conflict is tried again this often.
_TRANSACTION_ATTEMPTS = 3

# Writes that belong with a new post, in its transaction: all stored or none.
AlongWithPost = Callable[[AsyncClientSession], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PostDocument:
    id: int
    author_id: str
    body: str
    created_at: datetime
    client: str | None = None
    # Ids of its photos, in order (stores/media.py); a post never changes them.
    media: tuple[str, ...] = ()

    def to_mongo(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "_id": self.id,
            "author_id": self.author_id,
            "body": self.body,
            "created_at": self.created_at,
        }
        if self.client is not None:
            doc["client"] = self.client
        if self.media:
            doc["media"] = list(self.media)
        return doc

    @classmethod
    def from_mongo(cls, doc: dict[str, Any]) -> "PostDocument":
        return cls(
            id=doc["_id"],
            author_id=doc["author_id"],
            body=doc["body"],
            created_at=doc["created_at"],
            client=doc.get("client"),
            media=tuple(doc.get("media", ())),
        )


class PostIdTaken(Exception):
    """Another post already has this id; the caller picks a new one."""


class PostStore:
    def __init__(
        self,
        database: AsyncDatabase[dict[str, Any]],
        breaker: Breaker | None = None,
        *,
        bulk_deadline: float = 120.0,
    ) -> None:
        # Every call under the store's deadline and circuit breaker; bulk loading
        # (tools only) under a deadline of its own.
        self._breaker = breaker or Breaker("mongodb", deadline=30.0)
        self._bulk_deadline = bulk_deadline
        # Journaled: once insert() returns, the post survives a server crash.
        self._posts: AsyncCollection[dict[str, Any]] = database.get_collection(
            COLLECTION, write_concern=WriteConcern(w="majority", j=True)
        )
        # Clearing the outbox flag needs no journal: if it is lost, the post is
        # fanned out once more, which changes nothing.
        self._flags = database.get_collection(COLLECTION, write_concern=WriteConcern(w=1))
        # Bulk loads (tools only) wait on no journal: a load cut short is loaded again.
        self._bulk = database.get_collection(COLLECTION, write_concern=WriteConcern(w=1, j=False))

    async def ensure_indexes(self, retention_days: int) -> None:
        await self._breaker.call(self._ensure_indexes(retention_days), deadline=self._bulk_deadline)

    async def _ensure_indexes(self, retention_days: int) -> None:
        # Serves "posts by these authors, older than this id, newest first".
        await self._posts.create_index(
            [("author_id", ASCENDING), ("_id", DESCENDING)], name=_AUTHOR_RECENT
        )
        # A client's retry of createPost with the same key finds its first post.
        await self._posts.create_index(
            [("author_id", ASCENDING), (IDEMPOTENCY_KEY, ASCENDING)],
            name=_AUTHOR_IDEMPOTENCY,
            unique=True,
            partialFilterExpression={IDEMPOTENCY_KEY: {"$exists": True}},
        )
        await self._posts.create_index(
            FANOUT_DUE,
            name=_AWAITING_FANOUT,
            partialFilterExpression={FANOUT_DUE: {"$exists": True}},
        )
        await expire_after(self._posts, "created_at", _RETENTION, retention_days * 86_400)

    async def ping(self) -> None:
        await self._breaker.call(self._posts.database.command("ping"))

    async def insert(
        self,
        post: PostDocument,
        fanout_due: datetime,
        idempotency_key: str | None = None,
        *,
        along: AlongWithPost | None = None,
    ) -> PostDocument:
        """Stores the post; returns it, or the author's post stored under the same key.

        `along` writes what belongs with the post (its photos' records) in the same
        transaction: if it raises, neither is stored."""
        document = {**post.to_mongo(), FANOUT_DUE: fanout_due}
        if idempotency_key is not None:
            document[IDEMPOTENCY_KEY] = idempotency_key
        try:
            if along is None:
                await self._breaker.call(self._posts.insert_one(document))
            else:
                await self._breaker.call(self._insert_along(document, along))
        except DuplicateKeyError as error:
            if idempotency_key is not None:
                earlier = await self.by_idempotency_key(post.author_id, idempotency_key)
                if earlier is not None:
                    return earlier  # a retry that raced its first attempt
            raise PostIdTaken(post.id) from error
        return post

    async def _insert_along(self, document: dict[str, Any], along: AlongWithPost) -> None:
        client = self._posts.database.client
        for attempt in range(_TRANSACTION_ATTEMPTS):
            try:
                async with (
                    client.start_session() as session,
                    await session.start_transaction(
                        write_concern=WriteConcern(w="majority", j=True)
                    ),
                ):
                    await along(session)
                    await self._posts.insert_one(document, session=session)
                return
            except PyMongoError as error:
                transient = error.has_error_label("TransientTransactionError")
                if not transient or attempt == _TRANSACTION_ATTEMPTS - 1:
                    raise

    async def by_idempotency_key(self, author_id: str, key: str) -> PostDocument | None:
        query = {"author_id": author_id, IDEMPOTENCY_KEY: key}
        found = await self._breaker.call(self._posts.find_one(query))
        return None if found is None else PostDocument.from_mongo(found)

    async def insert_many(self, posts: Sequence[PostDocument]) -> None:
        """Bulk loading of history: already fanned out as far as the outbox cares."""
        if posts:
            documents = [post.to_mongo() for post in posts]
            await self._breaker.call(
                self._bulk.insert_many(documents, ordered=False), deadline=self._bulk_deadline
            )

    async def is_empty(self) -> bool:
        found = await self._breaker.call(self._posts.find_one({}, {"_id": 1}))
        return found is None

    async def drop_indexes_for_bulk_load(self) -> None:
        """Bulk loading into an empty collection: every index costs the load as much
        as the documents do (~20,000 posts/s without one, ~12,000 with one, ~6,000
        with four), and builds in far less time afterwards. `ensure_indexes` builds
        them again. The outbox's index stays (the sweep must not scan every post);
        until then a createPost retry is not recognised: for a stack not yet in use."""
        indexes = await self._breaker.call(self._posts.index_information())
        for name in indexes:
            if name not in ("_id_", _AWAITING_FANOUT):
                await self._breaker.call(self._posts.drop_index(name), deadline=self._bulk_deadline)

    async def get_many(self, ids: Sequence[int]) -> dict[int, PostDocument]:
        """One round trip for any number of ids; missing ids are absent from the result."""
        if not ids:
            return {}
        cursor = self._posts.find({"_id": {"$in": list(set(ids))}})
        documents = await self._breaker.call(cursor.to_list())
        return {doc["_id"]: PostDocument.from_mongo(doc) for doc in documents}

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
        return [PostDocument.from_mongo(doc) for doc in await self._breaker.call(cursor.to_list())]

    async def ids_by_author(self, author_id: str, since_id: int, limit: int) -> list[int]:
        """Ids of the author's newest posts at or after `since_id`, newest first."""
        cursor = (
            self._posts.find({"author_id": author_id, "_id": {"$gte": since_id}}, {"_id": 1})
            .sort("_id", DESCENDING)
            .limit(limit)
        )
        return [doc["_id"] for doc in await self._breaker.call(cursor.to_list())]

    async def mark_fanned_out(self, post_ids: Sequence[int]) -> None:
        if post_ids:
            await self._breaker.call(
                self._flags.update_many(
                    {"_id": {"$in": list(post_ids)}}, {"$unset": {FANOUT_DUE: ""}}
                )
            )

    async def overdue_fanouts(self, now: datetime, limit: int) -> list[tuple[int, str]]:
        """(id, author) of posts whose fan-out should have finished by `now`."""
        # Named, and its filter spelled out: a planner that does not see that `$lte`
        # implies `$exists` scans every post instead (SecantusDB did, 30 s a sweep at a
        # million posts).
        cursor = (
            self._posts.find({FANOUT_DUE: {"$exists": True, "$lte": now}}, {"author_id": 1})
            .sort(FANOUT_DUE, ASCENDING)
            .limit(limit)
            .hint(_AWAITING_FANOUT)
        )
        documents = await self._breaker.call(cursor.to_list())
        return [(doc["_id"], doc["author_id"]) for doc in documents]

    async def postpone_fanouts(self, post_ids: list[int], due: datetime) -> None:
        await self._breaker.call(
            self._flags.update_many(
                {"_id": {"$in": post_ids}, FANOUT_DUE: {"$exists": True}},
                {"$set": {FANOUT_DUE: due}},
            )
        )

    async def delete(self, post_id: int, author_id: str) -> bool:
        """Deletes the post if this author wrote it; False if there was no such post."""
        query = {"_id": post_id, "author_id": author_id}
        result = await self._breaker.call(self._posts.delete_one(query))
        return result.deleted_count == 1
