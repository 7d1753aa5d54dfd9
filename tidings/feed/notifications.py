"""A user's notifications: read, marked read and followed live by that user only.

Likes and comments reach them through the notifier (notifier.py); friend
requests are written here, as they happen, one notification per requester.
"""

import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from tidings.feed.errors import BadUserInput
from tidings.feed.live import LiveHub, stop_if_cancelled
from tidings.feed.notification_writer import NotificationWriter
from tidings.feed.paging import check_page_size, overfetched
from tidings.feed.rate_limit import RateLimiter
from tidings.feed.read_model import CommentView
from tidings.feed.users import is_user_id
from tidings.stores.comments import CommentStore
from tidings.stores.graph import FriendGraph
from tidings.stores.notifications import (
    NotificationDocument,
    NotificationKind,
    NotificationPosition,
    NotificationStore,
)

# Ids one markNotificationsRead may name.
MAX_MARKED = 100
# Likes of a post, comments on it, a request received, a request accepted.
_KEY_PREFIXES = frozenset("LCRA")


def _now() -> datetime:
    # Milliseconds, as MongoDB keeps them: a cursor made from it finds it again.
    return datetime.fromtimestamp(int(time.time() * 1000) / 1000, UTC)


def request_received_from(user_id: str) -> str:
    return f"R{user_id}"


def request_accepted_by(user_id: str) -> str:
    return f"A{user_id}"


def notification_id(notification: NotificationDocument) -> str:
    """Unique across users, as a client's cache expects of an ID."""
    return f"{notification.recipient}/{notification.key}"


def parse_notification_id(value: str) -> tuple[str, str]:
    """(recipient, key) of an id this API returned; BAD_USER_INPUT for anything else."""
    recipient, _, key = value.partition("/")
    if not (is_user_id(recipient) and key[:1] in _KEY_PREFIXES and is_user_id(key[1:])):
        raise BadUserInput("A notification id is one this API returned.", field="ids")
    return recipient, key


class Notifications:
    def __init__(
        self,
        store: NotificationStore,
        writer: NotificationWriter,
        hub: LiveHub,
        comments: CommentStore,
        graph: FriendGraph,
        marking: RateLimiter,
    ) -> None:
        self._store = store
        self._writer = writer
        self._hub = hub
        self._comments = comments
        self._graph = graph
        self._marking = marking

    async def newest(
        self, viewer_id: str, user_id: str, after: NotificationPosition | None, first: int
    ) -> tuple[list[NotificationDocument], bool] | None:
        """The viewer's own, newest first; None for anyone else's."""
        if user_id != viewer_id:
            return None
        found = await self._store.newest(viewer_id, after, check_page_size(first) + 1)
        return overfetched(found, first)

    async def unread_count(self, viewer_id: str, user_id: str) -> int | None:
        if user_id != viewer_id:
            return None
        return await self._store.unread_count(viewer_id)

    async def mark_read(self, viewer_id: str, ids: Sequence[str] | None) -> None:
        """The viewer's own (all when `ids` is None); ids of anyone else's match nothing."""
        keys = None
        if ids is not None:
            if len(ids) > MAX_MARKED:
                raise BadUserInput(f"Mark at most {MAX_MARKED} notifications at once.", field="ids")
            parsed = [parse_notification_id(value) for value in ids]
            # Another user's ids name nothing of the viewer's.
            keys = [key for recipient, key in parsed if recipient == viewer_id]
        await self._marking.take(viewer_id)
        await self._store.mark_read(viewer_id, keys)

    async def follow(self, viewer_id: str) -> AsyncIterator[NotificationDocument]:
        """The viewer's notifications as they are created or updated, each as it is
        when it arrives (one that is gone by then is skipped)."""
        async with self._hub.listen_notifications(viewer_id) as listener:
            while True:
                stop_if_cancelled()
                key = await listener.next()
                found = await self._store.get(viewer_id, key)
                stop_if_cancelled()
                if found is not None:
                    yield found

    async def hidden_from(self, viewer_id: str, user_ids: Sequence[str]) -> set[str]:
        """Who among these the viewer blocked or was blocked by: left out of what
        the viewer is shown."""
        others = sorted(set(user_ids) - {viewer_id})
        return await self._graph.blocked_either_way(viewer_id, others) if others else set()

    async def comments(self, comment_ids: Sequence[int]) -> dict[int, CommentView]:
        """Comments named by the viewer's notifications (on the viewer's own posts);
        the caller leaves out those of anyone `hidden_from` the viewer."""
        found = await self._comments.get_many(comment_ids)
        return {comment_id: CommentView.of(comment) for comment_id, comment in found.items()}

    # -- friend requests, as they happen --------------------------------------------

    async def friend_requested(self, requester: str, recipient: str) -> None:
        await self._one_person(
            NotificationKind.FRIEND_REQUEST_RECEIVED,
            request_received_from(requester),
            requester,
            recipient,
        )

    async def request_withdrawn(self, requester: str, recipient: str) -> None:
        await self._writer.remove(recipient, request_received_from(requester))

    async def friend_accepted(self, accepter: str, requester: str) -> None:
        await self._one_person(
            NotificationKind.FRIEND_REQUEST_ACCEPTED,
            request_accepted_by(accepter),
            accepter,
            requester,
        )

    async def _one_person(
        self, kind: NotificationKind, key: str, actor: str, recipient: str
    ) -> None:
        await self._writer.put(
            NotificationDocument(
                key=key,
                recipient=recipient,
                kind=kind,
                actors=(actor,),
                actor_count=1,
                updated_at=_now(),
            )
        )

    async def forget_post(self, post_id: int) -> None:
        await self._writer.forget_post(post_id)
