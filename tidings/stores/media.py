"""Media records in MongoDB: one document per upload, from the presigned URL to
the processed photo, and until its objects are deleted.

States: PENDING (an upload slot; its bytes may or may not be in the bucket yet),
PROCESSING (attached to a post, waiting for the worker), READY or FAILED. The
processing documents are the worker's queue: it claims one by moving its lease
forward, so a worker that dies leaves it to be claimed again. Every document has
an `expires_at`; the sweeper deletes its objects, then the document, after it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from tidings.stores.breaker import Breaker

COLLECTION = "media"
_BY_POST = "by_post"
_DUE = "processing_due"
_EXPIRY = "expiry"


class MediaState(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Rendition:
    """What the worker made of an image: the same for every size but the pixels."""

    content_type: str
    width: int
    height: int
    placeholder: str


@dataclass(frozen=True, slots=True)
class MediaDocument:
    id: str
    owner_id: str
    declared_type: str
    declared_size: int
    created_at: datetime
    state: MediaState
    expires_at: datetime
    post_id: int | None = None
    alt: str | None = None
    attempts: int = 0
    failure: str | None = None
    rendition: Rendition | None = None

    def to_mongo(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "owner_id": self.owner_id,
            "declared_type": self.declared_type,
            "declared_size": self.declared_size,
            "created_at": self.created_at,
            "state": self.state.value,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_mongo(cls, doc: dict[str, Any]) -> "MediaDocument":
        rendition = None
        if "content_type" in doc:
            rendition = Rendition(
                doc["content_type"], doc["width"], doc["height"], doc["placeholder"]
            )
        return cls(
            id=doc["_id"],
            owner_id=doc["owner_id"],
            declared_type=doc["declared_type"],
            declared_size=doc["declared_size"],
            created_at=doc["created_at"],
            state=MediaState(doc["state"]),
            expires_at=doc["expires_at"],
            post_id=doc.get("post_id"),
            alt=doc.get("alt"),
            attempts=doc.get("attempts", 0),
            failure=doc.get("failure"),
            rendition=rendition,
        )


@dataclass(frozen=True, slots=True)
class Attachment:
    upload_id: str
    alt: str | None


class MediaStore:
    def __init__(self, database: AsyncDatabase[dict[str, Any]], breaker: Breaker) -> None:
        self._breaker = breaker
        # Journaled like posts: an upload slot or a processed photo once answered
        # survives a crash.
        self._media: AsyncCollection[dict[str, Any]] = database.get_collection(
            COLLECTION, write_concern=WriteConcern(w="majority", j=True)
        )

    async def ensure_indexes(self) -> None:
        await self._media.create_index(
            "post_id", name=_BY_POST, partialFilterExpression={"post_id": {"$exists": True}}
        )
        await self._media.create_index(
            "lease_until",
            name=_DUE,
            partialFilterExpression={"lease_until": {"$exists": True}},
        )
        await self._media.create_index("expires_at", name=_EXPIRY)

    async def create(self, media: MediaDocument) -> None:
        await self._breaker.call(self._media.insert_one(media.to_mongo()))

    async def get_many(self, ids: Sequence[str]) -> dict[str, MediaDocument]:
        if not ids:
            return {}
        cursor = self._media.find({"_id": {"$in": list(set(ids))}})
        found = await self._breaker.call(cursor.to_list())
        return {doc["_id"]: MediaDocument.from_mongo(doc) for doc in found}

    async def attach(
        self,
        session: AsyncClientSession,
        owner_id: str,
        post_id: int,
        attachments: Sequence[Attachment],
        now: datetime,
        expires_at: datetime,
    ) -> int:
        """Within the post's transaction: moves the owner's pending uploads onto
        the post, due for processing now. Returns how many it moved."""
        result = await self._media.bulk_write(
            [
                UpdateOne(
                    {
                        "_id": item.upload_id,
                        "owner_id": owner_id,
                        "state": MediaState.PENDING.value,
                    },
                    {
                        "$set": {
                            "state": MediaState.PROCESSING.value,
                            "post_id": post_id,
                            "alt": item.alt,
                            "lease_until": now,
                            "attempts": 0,
                            "expires_at": expires_at,
                        }
                    },
                )
                for item in attachments
            ],
            session=session,
        )
        return result.modified_count

    async def claim(self, now: datetime, lease_until: datetime) -> MediaDocument | None:
        """The media that waited longest for processing, now leased to the caller."""
        found = await self._breaker.call(
            self._media.find_one_and_update(
                {"lease_until": {"$lte": now}, "state": MediaState.PROCESSING.value},
                {"$set": {"lease_until": lease_until}, "$inc": {"attempts": 1}},
                sort=[("lease_until", ASCENDING)],
                return_document=ReturnDocument.AFTER,
            )
        )
        return None if found is None else MediaDocument.from_mongo(found)

    async def settle(
        self, media_id: str, rendition: Rendition | None, failure: str | None = None
    ) -> bool:
        """READY with its rendition, or FAILED with a reason; False if the media is
        no longer processing (its post was deleted meanwhile)."""
        fields: dict[str, Any]
        if rendition is not None:
            fields = {
                "state": MediaState.READY.value,
                "content_type": rendition.content_type,
                "width": rendition.width,
                "height": rendition.height,
                "placeholder": rendition.placeholder,
            }
        else:
            fields = {"state": MediaState.FAILED.value, "failure": failure}
        result = await self._breaker.call(
            self._media.update_one(
                {"_id": media_id, "state": MediaState.PROCESSING.value},
                {"$set": fields, "$unset": {"lease_until": ""}},
            )
        )
        return result.modified_count == 1

    async def expire_post(self, post_id: int, now: datetime) -> list[str]:
        """Marks the post's media for removal now; returns their ids."""
        cursor = self._media.find({"post_id": post_id}, {"_id": 1})
        ids = [doc["_id"] for doc in await self._breaker.call(cursor.to_list())]
        if ids:
            await self._breaker.call(
                self._media.update_many(
                    {"_id": {"$in": ids}},
                    {"$set": {"expires_at": now}, "$unset": {"lease_until": ""}},
                )
            )
        return ids

    async def expired(self, now: datetime, limit: int) -> list[str]:
        cursor = self._media.find({"expires_at": {"$lte": now}}, {"_id": 1}).limit(limit)
        return [doc["_id"] for doc in await self._breaker.call(cursor.to_list())]

    async def remove(self, ids: Sequence[str]) -> None:
        if ids:
            await self._breaker.call(self._media.delete_many({"_id": {"$in": list(ids)}}))

    async def existing(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        cursor = self._media.find({"_id": {"$in": list(set(ids))}}, {"_id": 1})
        return {doc["_id"] for doc in await self._breaker.call(cursor.to_list())}
