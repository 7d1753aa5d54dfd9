"""Photos on posts: upload slots, what createPost checks of them, signed URLs,
and what goes when a post goes.

The bytes never pass through the API. createUpload answers a presigned PUT for
an object whose key the server chose; createPost reads only the first bytes of
each upload to refuse what is plainly wrong (another type, a bomb), then attaches
the uploads to the post in the post's own transaction; the worker makes the
renditions (feed/media_processor.py). A URL for a rendition is signed per
viewer who may see the post, valid for minutes.
"""

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pymongo.asynchronous.client_session import AsyncClientSession
from redis.asyncio import Redis

from tidings.feed import images
from tidings.feed.errors import BadUserInput, RateLimited
from tidings.feed.expiring_cache import ExpiringCache
from tidings.feed.keys import Keys
from tidings.feed.rate_limit import RateLimiter
from tidings.stores.breaker import StoreUnavailable
from tidings.stores.media import Attachment, MediaDocument, MediaState, MediaStore
from tidings.stores.objects import ObjectMissing, ObjectStore
from tidings.stores.posts import AlongWithPost

log = logging.getLogger(__name__)

MAX_MEDIA_PER_POST = 4
MAX_ALT_CHARS = 1_500
# How much of an upload createPost reads: enough for any header we take,
# metadata before a JPEG's frame header included.
PREFIX_BYTES = 256 * 1024


_SETTLED = frozenset({MediaState.READY, MediaState.FAILED})


class MediaSize(StrEnum):
    THUMBNAIL = "thumbnail"
    LARGE = "large"


def original_name(media_id: str) -> str:
    return f"{media_id}/original"


def rendition_name(media_id: str, size: MediaSize) -> str:
    return f"{media_id}/{size.value}"


def object_names(media_id: str) -> list[str]:
    return [original_name(media_id), *(rendition_name(media_id, size) for size in MediaSize)]


@dataclass(frozen=True, slots=True)
class UploadTicket:
    id: str
    url: str
    # What the client must send with the PUT: the signature covers them.
    headers: tuple[tuple[str, str], ...]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class MediaView:
    """What a reader may see of one photo of a post."""

    id: str
    state: MediaState
    failure: str | None
    content_type: str | None
    width: int | None
    height: int | None
    placeholder: str | None
    alt: str | None

    @classmethod
    def of(cls, media: MediaDocument) -> "MediaView":
        rendition = media.rendition if media.state is MediaState.READY else None
        return cls(
            id=media.id,
            state=media.state,
            failure=media.failure if media.state is MediaState.FAILED else None,
            content_type=rendition.content_type if rendition else None,
            width=rendition.width if rendition else None,
            height=rendition.height if rendition else None,
            placeholder=rendition.placeholder if rendition else None,
            alt=media.alt,
        )


# KEYS: the user's bytes today. ARGV: bytes wanted, the limit, seconds to keep.
# Returns 0 if they fit (and are counted), else -1.
_TAKE_BYTES = """
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total > tonumber(ARGV[2]) then
  redis.call('DECRBY', KEYS[1], ARGV[1])
  return -1
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 0
"""


class UploadQuota:
    """Bytes a user may declare for uploads per UTC day."""

    def __init__(self, redis: "Redis", keys: Keys, bytes_per_day: int) -> None:
        self._keys = keys
        self._limit = bytes_per_day
        self._take = redis.register_script(_TAKE_BYTES)

    async def take(self, user_id: str, size: int) -> None:
        now = time.time()
        day = int(now // 86_400)
        key = self._keys.upload_bytes(user_id, day)
        if int(await self._take([key], [size, self._limit, 2 * 86_400])):
            raise RateLimited(
                f"Uploads are limited to {self._limit // (1024 * 1024)} MiB a day.",
                retryAfter=max(1, int((day + 1) * 86_400 - now)),
            )


class MediaLibrary:
    def __init__(
        self,
        store: MediaStore,
        objects: ObjectStore | None,
        quota: UploadQuota,
        limiter: RateLimiter,
        *,
        max_bytes: int,
        upload_seconds: int,
        url_seconds: int,
        keep_seconds: int,
        retention_days: int,
        url_cache_entries: int,
    ) -> None:
        self._store = store
        self._objects = objects
        self._quota = quota
        self._limiter = limiter
        self._max_bytes = max_bytes
        self._upload_seconds = upload_seconds
        self._url_seconds = url_seconds
        self._keep = timedelta(seconds=keep_seconds)
        self._retention = timedelta(days=retention_days)
        # A URL is handed out again for half its life, so every URL a page shows
        # is valid for at least half of `url_seconds`, and a page of photos signs
        # nothing it signed a moment ago.
        self._urls: ExpiringCache[str, str] = ExpiringCache(url_cache_entries, url_seconds / 2)
        # Photos that settled (READY or FAILED) never change again: a page of them
        # needs no MongoDB round trip. A deleted post's photos are never asked for,
        # since the post is not shown.
        self._settled: ExpiringCache[str, MediaView] = ExpiringCache(url_cache_entries, 600)

    def _require_objects(self) -> ObjectStore:
        if self._objects is None:
            raise StoreUnavailable("media storage (not configured)", 60)
        return self._objects

    async def create_upload(self, owner_id: str, content_type: str, size: int) -> UploadTicket:
        objects = self._require_objects()
        content_type = content_type.strip().lower()
        if content_type not in images.FORMATS:
            raise BadUserInput(
                "contentType must be one of " + ", ".join(sorted(images.FORMATS)) + ".",
                field="contentType",
            )
        if not 1 <= size <= self._max_bytes:
            raise BadUserInput(
                f"byteSize must be between 1 and {self._max_bytes} bytes.", field="byteSize"
            )
        await self._limiter.take(owner_id)
        await self._quota.take(owner_id, size)
        now = datetime.now(UTC)
        media = MediaDocument(
            id=secrets.token_urlsafe(16),
            owner_id=owner_id,
            declared_type=content_type,
            declared_size=size,
            created_at=now,
            state=MediaState.PENDING,
            expires_at=now + self._keep,
        )
        await self._store.create(media)
        url = await objects.upload_url(
            original_name(media.id), content_type, size, self._upload_seconds
        )
        return UploadTicket(
            id=media.id,
            url=url,
            headers=(("Content-Type", content_type), ("Content-Length", str(size))),
            expires_at=now + timedelta(seconds=self._upload_seconds),
        )

    async def check(self, owner_id: str, wanted: Sequence[Attachment]) -> list[Attachment]:
        """The attachments of a new post, refused with BAD_USER_INPUT for anything
        that can be known wrong before processing; stores nothing."""
        if not wanted:
            return []
        if len(wanted) > MAX_MEDIA_PER_POST:
            raise BadUserInput(f"A post has at most {MAX_MEDIA_PER_POST} media.", field="media")
        ids = [item.upload_id for item in wanted]
        if len(set(ids)) != len(ids):
            raise BadUserInput("The same upload is attached twice.", field="media")
        for item in wanted:
            if item.alt is not None and (len(item.alt) > MAX_ALT_CHARS or "\x00" in item.alt):
                raise BadUserInput(
                    f"Alt text is at most {MAX_ALT_CHARS} characters, without NUL.", field="alt"
                )
        objects = self._require_objects()
        found = await self._store.get_many(ids)
        for upload_id in ids:
            media = found.get(upload_id)
            # Another user's upload answers as a missing one: no oracle.
            if media is None or media.owner_id != owner_id:
                raise BadUserInput(f"There is no upload {upload_id!r}.", field="media")
            if media.state is not MediaState.PENDING:
                raise BadUserInput(
                    f"Upload {upload_id!r} is already used on a post.", field="media"
                )
        await asyncio.gather(*(self._check_bytes(objects, found[i]) for i in ids))
        return list(wanted)

    async def _check_bytes(self, objects: ObjectStore, media: MediaDocument) -> None:
        name = original_name(media.id)
        try:
            size = await objects.size(name)
        except ObjectMissing:
            raise BadUserInput(
                f"Upload {media.id!r} has no bytes yet: PUT the file to its URL first.",
                field="media",
            ) from None
        if size != media.declared_size:
            raise BadUserInput(
                f"Upload {media.id!r} has {size} bytes, not the {media.declared_size} declared.",
                field="media",
            )
        first = await objects.read(name, first=min(size, PREFIX_BYTES))
        try:
            facts = images.inspect(first, complete=size <= PREFIX_BYTES)
        except images.UnusableImage as refused:
            raise BadUserInput(f"Upload {media.id!r}: {refused.reason}", field="media") from None
        if facts.content_type != media.declared_type:
            raise BadUserInput(
                f"Upload {media.id!r} was declared {media.declared_type}, "
                f"but its bytes are {facts.content_type}.",
                field="media",
            )

    def attacher(
        self, owner_id: str, post_id: int, created_at: datetime, attachments: Sequence[Attachment]
    ) -> AlongWithPost:
        """The writes that attach checked uploads to the post, in its transaction;
        they go with the post after the retention, as the post does."""

        async def attach(session: AsyncClientSession) -> None:
            moved = await self._store.attach(
                session,
                owner_id,
                post_id,
                attachments,
                datetime.now(UTC),
                created_at + self._retention,
            )
            if moved != len(attachments):
                # Another post took one since the check: the transaction aborts.
                raise BadUserInput("An upload is already used on a post.", field="media")

        return attach

    async def views(self, media_ids: Sequence[str]) -> dict[str, MediaView]:
        known = self._settled.get_many(media_ids)
        missing = [media_id for media_id in media_ids if media_id not in known]
        if missing:
            found = {
                i: MediaView.of(media) for i, media in (await self._store.get_many(missing)).items()
            }
            known.update(found)
            self._settled.put_items(
                (i, view) for i, view in found.items() if view.state in _SETTLED
            )
        return known

    def url(self, media: MediaView, size: MediaSize) -> str | Awaitable[str] | None:
        """A signed GET of the rendition, for a viewer who may see its post; None
        until the photo is READY. A URL signed a moment ago is handed out as it is,
        with nothing to await."""
        if media.state is not MediaState.READY or self._objects is None:
            return None
        name = rendition_name(media.id, size)
        cached = self._urls.get(name)
        if cached is not None:
            return cached
        return self._sign(self._objects, name)

    async def _sign(self, objects: ObjectStore, name: str) -> str:
        signed = await objects.download_url(name, self._url_seconds)
        self._urls.put_items(((name, signed),))
        return signed

    async def forget_post(self, post_id: int) -> None:
        """The deleted post's photos: their records, then their objects. What a
        failing store leaves behind, the worker's sweep removes."""
        ids = await self._store.expire_post(post_id, datetime.now(UTC))
        if not ids or self._objects is None:
            return
        try:
            await self._objects.delete([name for i in ids for name in object_names(i)])
            await self._store.remove(ids)
        except StoreUnavailable:
            log.warning("post %d's media left for the sweep: object storage is down", post_id)
