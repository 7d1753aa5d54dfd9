"""Notifications in MongoDB: one document per group (a recipient's likes of one
post, comments on one post, one friend request), rewritten whole as it changes.

A group's document is what the recipient reads: its newest actors, how many
there are, and whether they have read it since it last moved. It is keyed by
recipient and group (`{recipient}/{key}`), so marking read and paging never
touch anyone else's. Each user keeps their newest `keep` groups; the rest, and
any not updated for `keep_days`, go.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from tidings.stores.breaker import Breaker
from tidings.stores.expiry import expire_after

NOTIFICATIONS = "notifications"
_EXPIRY = "expiry"

# A position in a user's notifications, newest first: when it moved (ms), and its key.
NotificationPosition = tuple[int, str]


class NotificationKind(StrEnum):
    POST_LIKED = "POST_LIKED"
    POST_COMMENTED = "POST_COMMENTED"
    FRIEND_REQUEST_RECEIVED = "FRIEND_REQUEST_RECEIVED"
    FRIEND_REQUEST_ACCEPTED = "FRIEND_REQUEST_ACCEPTED"


@dataclass(frozen=True, slots=True)
class NotificationDocument:
    # Unique per recipient: "L<post>", "C<post>", "R<user>", "A<user>".
    key: str
    recipient: str
    kind: NotificationKind
    # Newest first, at most a few: the group's size is `actor_count`.
    actors: tuple[str, ...]
    actor_count: int
    updated_at: datetime
    post_id: int | None = None
    comment_id: int | None = None
    read: bool = field(default=False, compare=False)

    @property
    def position(self) -> NotificationPosition:
        return int(self.updated_at.timestamp() * 1000), self.key

    def _fields(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "key": self.key,
            "kind": self.kind.value,
            "actors": list(self.actors),
            "actor_count": self.actor_count,
            "post_id": self.post_id,
            "comment_id": self.comment_id,
        }

    @classmethod
    def from_mongo(cls, doc: dict[str, Any]) -> "NotificationDocument":
        return cls(
            key=doc["key"],
            recipient=doc["recipient"],
            kind=NotificationKind(doc["kind"]),
            actors=tuple(doc["actors"]),
            actor_count=int(doc["actor_count"]),
            updated_at=doc["updated_at"],
            post_id=doc.get("post_id"),
            comment_id=doc.get("comment_id"),
            read=bool(doc.get("read", False)),
        )


def _id(recipient: str, key: str) -> str:
    return f"{recipient}/{key}"


class NotificationStore:
    def __init__(
        self,
        database: AsyncDatabase[dict[str, Any]],
        breaker: Breaker,
        *,
        keep: int,
        keep_days: int,
    ) -> None:
        self._breaker = breaker
        self._notifications = database.get_collection(NOTIFICATIONS)
        self._keep = keep
        self._keep_days = keep_days

    async def ensure_indexes(self) -> None:
        # A user's notifications, newest first, keyset-paged.
        await self._notifications.create_index(
            [("recipient", ASCENDING), ("updated_at", DESCENDING), ("key", DESCENDING)],
            name="newest",
        )
        await self._notifications.create_index(
            [("recipient", ASCENDING), ("read", ASCENDING)], name="unread"
        )
        # A deleted post's notifications.
        await self._notifications.create_index("post_id", name="post")
        await expire_after(self._notifications, "updated_at", _EXPIRY, self._keep_days * 86_400)

    async def put(self, notification: NotificationDocument) -> bool:
        """Writes the group as it is now. It moves to the top and is unread again
        only if it is newer than what is stored (someone acted since); a group that
        shrank keeps its place and its read mark. True if it was new."""
        doc_id = _id(notification.recipient, notification.key)
        fields = notification._fields()
        newer = {"$set": {**fields, "updated_at": notification.updated_at, "read": False}}
        try:
            written = await self._breaker.call(
                self._notifications.update_one(
                    {"_id": doc_id, "updated_at": {"$lt": notification.updated_at}},
                    newer,
                    upsert=True,
                )
            )
        except DuplicateKeyError:
            # It exists and is not older: the group changed without anyone new.
            await self._breaker.call(
                self._notifications.update_one({"_id": doc_id}, {"$set": fields})
            )
            return False
        if written.upserted_id is None:
            return False
        await self._trim(notification.recipient)
        return True

    async def _trim(self, recipient: str) -> None:
        """Keeps the user's newest `keep`: called as a group is added, so at most a
        few are past the bound at a time."""
        cursor = (
            self._notifications.find({"recipient": recipient}, {"_id": 1})
            .sort([("updated_at", DESCENDING), ("key", DESCENDING)])
            .skip(self._keep)
            .limit(100)
        )
        extra = [doc["_id"] for doc in await self._breaker.call(cursor.to_list())]
        if extra:
            await self._breaker.call(self._notifications.delete_many({"_id": {"$in": extra}}))

    async def get(self, recipient: str, key: str) -> NotificationDocument | None:
        found = await self._breaker.call(self._notifications.find_one({"_id": _id(recipient, key)}))
        return None if found is None else NotificationDocument.from_mongo(found)

    async def remove(self, recipient: str, key: str) -> None:
        await self._breaker.call(self._notifications.delete_one({"_id": _id(recipient, key)}))

    async def newest(
        self, recipient: str, after: NotificationPosition | None, limit: int
    ) -> list[NotificationDocument]:
        """The user's notifications, newest first, strictly after `after`."""
        query: dict[str, Any] = {"recipient": recipient}
        if after is not None:
            at = datetime.fromtimestamp(after[0] / 1000, UTC)
            query["$or"] = [
                {"updated_at": {"$lt": at}},
                {"updated_at": at, "key": {"$lt": after[1]}},
            ]
        cursor = (
            self._notifications.find(query)
            .sort([("updated_at", DESCENDING), ("key", DESCENDING)])
            .limit(limit)
        )
        return [
            NotificationDocument.from_mongo(doc)
            for doc in await self._breaker.call(cursor.to_list())
        ]

    async def unread_count(self, recipient: str) -> int:
        # Bounded by `keep`: a user never has more stored.
        query = {"recipient": recipient, "read": False}
        return int(await self._breaker.call(self._notifications.count_documents(query)))

    async def mark_read(self, recipient: str, keys: Sequence[str] | None) -> None:
        """The user's own (all, with no keys); another user's keys match nothing."""
        query: dict[str, Any] = {"recipient": recipient, "read": False}
        if keys is not None:
            query["_id"] = {"$in": [_id(recipient, key) for key in keys]}
        await self._breaker.call(self._notifications.update_many(query, {"$set": {"read": True}}))

    async def forget_post(self, post_id: int) -> None:
        """A deleted post's notifications."""
        await self._breaker.call(self._notifications.delete_many({"post_id": post_id}))
