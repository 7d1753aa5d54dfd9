"""Accepting a post: validate, store durably, then queue its fan-out."""

import logging
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from tidings.feed.errors import BadUserInput, NotFound
from tidings.feed.ids import PostIdGenerator, post_id_time
from tidings.feed.queue import FanoutQueue, JobKind
from tidings.feed.rate_limit import RateLimiter
from tidings.feed.visibility import NO_SUCH_POST
from tidings.stores.breaker import StoreUnavailable
from tidings.stores.media import Attachment
from tidings.stores.posts import AlongWithPost, PostDocument, PostIdTaken, PostStore

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_024
MAX_CLIENT_CHARS = 64
MAX_IDEMPOTENCY_KEY_CHARS = 128
_ID_ATTEMPTS = 5


def _visible(char: str) -> bool:
    # Not a separator (Z*: spaces) and not an "other" (C*: controls, format
    # characters such as zero-width spaces and bidi overrides, unassigned).
    return unicodedata.category(char)[0] not in "ZC"


def validate_idempotency_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_CHARS or not key.isascii() or not key.isprintable():
        raise BadUserInput(
            f"An idempotency key is 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters.",
            field="idempotencyKey",
        )


def validate_post(
    body: str, client: str | None, *, with_media: bool = False
) -> tuple[str, str | None]:
    """The body and client as they will be stored, or BAD_USER_INPUT. A post
    with photos may have an empty body."""
    if not with_media and not any(_visible(char) for char in body):
        raise BadUserInput(
            "A post needs a body with at least one visible character, or media.", field="body"
        )
    try:
        size = len(body.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadUserInput("The body is not valid Unicode text.", field="body") from None
    if size > MAX_BODY_BYTES:
        raise BadUserInput(
            f"A post body is at most {MAX_BODY_BYTES} bytes of UTF-8; this one has {size}.",
            field="body",
        )
    if "\x00" in body:
        raise BadUserInput("The body may not contain NUL characters.", field="body")
    if client is not None:
        if len(client) > MAX_CLIENT_CHARS:
            raise BadUserInput(
                f"Client metadata is at most {MAX_CLIENT_CHARS} characters.", field="client"
            )
        try:
            client.encode("utf-8")
        except UnicodeEncodeError:
            raise BadUserInput("The client is not valid Unicode text.", field="client") from None
        if not all(_visible(char) or char == " " for char in client):
            raise BadUserInput(
                "Client metadata is printable text: letters, digits, punctuation and spaces.",
                field="client",
            )
    return body, client


class MediaAttacher(Protocol):
    """What posting needs of media (feed/media.py): checks, then the attaching
    writes for the post's transaction."""

    async def check(self, owner_id: str, wanted: Sequence[Attachment]) -> list[Attachment]: ...

    def attacher(
        self, owner_id: str, post_id: int, created_at: datetime, attachments: Sequence[Attachment]
    ) -> AlongWithPost: ...


class PostService:
    def __init__(
        self,
        store: PostStore,
        queue: FanoutQueue,
        ids: PostIdGenerator,
        limiter: RateLimiter,
        *,
        deleting: RateLimiter,
        fanout_deadline: timedelta,
        media: "MediaAttacher | None" = None,
    ) -> None:
        self._store = store
        self._queue = queue
        self._ids = ids
        self._limiter = limiter
        self._deleting = deleting
        self._fanout_deadline = fanout_deadline
        self._media = media
        self.created = 0
        # What else goes with a post (every process's cached copy, its likes): set
        # where the process is built.
        self.on_deleted: list[Callable[[int], Awaitable[None]]] = []

    async def create(
        self,
        author_id: str,
        body: str,
        client: str | None,
        idempotency_key: str | None = None,
        media: Sequence[Attachment] = (),
    ) -> PostDocument:
        """Stores the post durably and queues its fan-out.

        With an idempotency key, a retry by the same author returns the post the
        first attempt stored, and stores nothing new (nor counts against the limit).
        Its uploads are attached in the post's own transaction.
        """
        body, client = validate_post(body, client, with_media=bool(media))
        if idempotency_key is not None:
            validate_idempotency_key(idempotency_key)
            earlier = await self._store.by_idempotency_key(author_id, idempotency_key)
            if earlier is not None:
                return earlier
        attachments: list[Attachment] = []
        if media:
            if self._media is None:
                raise BadUserInput("This server takes no media.", field="media")
            attachments = await self._media.check(author_id, media)
        await self._limiter.take(author_id)
        for _attempt in range(_ID_ATTEMPTS):
            post_id = self._ids.next_id()
            created_at = post_id_time(post_id)
            post = PostDocument(
                post_id,
                author_id,
                body,
                created_at,
                client,
                tuple(item.upload_id for item in attachments),
            )
            along = None
            if self._media is not None and attachments:
                along = self._media.attacher(author_id, post_id, created_at, attachments)
            try:
                stored = await self._store.insert(
                    post, created_at + self._fanout_deadline, idempotency_key, along=along
                )
            except PostIdTaken:
                # Two processes shared a node number: the unique _id caught it.
                continue
            if stored.id != post.id:
                return stored  # a retry raced its first attempt, which won
            try:
                await self._queue.enqueue(post.id, author_id)
            except StoreUnavailable:
                # Accepted and durable: its outbox mark (see outbox.py) has a worker
                # enqueue it once Redis is back. The same holds if we die right here.
                log.warning("post %d stored; its fan-out waits for the outbox", post.id)
            self.created += 1
            return post
        raise RuntimeError("could not allocate a unique post id")

    async def delete(self, author_id: str, post_id: int) -> None:
        """Deletes at once for every reader; stored timelines are cleaned in the background."""
        await self._deleting.take(author_id)
        if not await self._store.delete(post_id, author_id):
            # Someone else's post answers as a missing one: no existence oracle.
            raise NotFound(NO_SUCH_POST)
        # Reads skip it once it is gone from MongoDB and from every post cache;
        # the queued job drops the stale ids from stored timelines.
        for forget in self.on_deleted:
            await forget(post_id)
        await self._queue.enqueue(post_id, author_id, JobKind.DELETE)
