"""The notifier: writes the notification groups that likes and comments changed.

It runs in the worker process beside fan-out. Each pass claims up to `batch`
changed groups (a hot post's likes are one group however many came since the
last pass: coalesced, see changed_groups.py), reads their posts, counts and
authors' own likes and comments in one query each for the pass, and recomputes
each group from the likes and comments themselves: the newest few people, how
many there are, the newest comment. Recomputing, not applying
deltas, makes a repeated or reordered pass harmless and lets an unlike or a
deleted comment shrink the group; a group nobody else is behind any more is
removed. Nobody is notified of their own likes or comments.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from tidings.feed.backoff import Backoff
from tidings.feed.changed_groups import ChangedGroups, comments_on, likes_of
from tidings.feed.notification_writer import NotificationWriter
from tidings.stores.breaker import OUTAGES, StoreUnavailable
from tidings.stores.comments import CommentStore
from tidings.stores.counters import PostStatsStore
from tidings.stores.likes import LikeStore
from tidings.stores.notifications import NotificationDocument, NotificationKind
from tidings.stores.posts import PostDocument, PostStore

log = logging.getLogger(__name__)

# People a notification names, newest first; the rest are counted.
ACTORS = 10
_OUTAGES: tuple[type[BaseException], ...] = (*OUTAGES, StoreUnavailable)


def _post_of(group: str) -> int | None:
    digits = group[1:]
    return int(digits) if group[:1] in {"L", "C"} and digits.isdigit() else None


class Notifier:
    def __init__(
        self,
        changed: ChangedGroups,
        writer: NotificationWriter,
        posts: PostStore,
        likes: LikeStore,
        comments: CommentStore,
        stats: PostStatsStore,
        *,
        batch: int = 200,
        idle_seconds: float = 0.02,
        concurrency: int = 16,
    ) -> None:
        self._changed = changed
        self._writer = writer
        self._posts = posts
        self._likes = likes
        self._comments = comments
        self._stats = stats
        self._batch = batch
        self._idle_seconds = idle_seconds
        self._concurrency = asyncio.Semaphore(concurrency)
        self._backoff = Backoff()
        self.written = 0
        self.failed = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                wrote = await self.write_changed()
                self._backoff.reset()
                delay = 0.0 if wrote else self._idle_seconds
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.failed += 1
                delay = self._backoff.next_delay()
                if isinstance(error, _OUTAGES):
                    log.warning("notifications paused: %s; retrying in %.1fs", error, delay)
                else:
                    log.exception("writing notifications failed; retrying in %.1fs", delay)
            if delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)

    async def write_changed(self) -> int:
        """One pass: the groups it wrote (or found gone)."""
        groups = await self._changed.claim(self._batch)
        if not groups:
            return 0
        try:
            await self._write(groups)
        except BaseException:
            # Back in line for the next pass (or, if Redis is the one down, for
            # whichever notifier claims them once their claim runs out).
            with contextlib.suppress(*_OUTAGES):
                await self._changed.release(groups)
            raise
        await self._changed.done(groups)
        self.written += len(groups)
        return len(groups)

    async def _write(self, groups: list[str]) -> None:
        """The pass's groups: their posts, counts and authors' own likes and comments
        in one query each for the whole pass; then each group's newest people."""
        wanted = {group: post_id for group in groups if (post_id := _post_of(group)) is not None}
        post_ids = sorted(set(wanted.values()))
        posts, stats = await asyncio.gather(
            self._posts.get_many(post_ids), self._stats.of(post_ids)
        )
        authors = [(post.id, post.author_id) for post in posts.values()]
        own_likes, own_comments = await asyncio.gather(
            self._likes.liked(authors), self._comments.commented(authors)
        )
        writes: list[Awaitable[None]] = []
        for group, post_id in wanted.items():
            post = posts.get(post_id)
            if post is None:
                writes.append(self._writer.forget_post(post_id))
            elif group == likes_of(post_id):
                others = stats[post_id].likes - ((post_id, post.author_id) in own_likes)
                writes.append(self._bounded(group, post, others, self._liked))
            else:
                others = stats[post_id].commenters - ((post_id, post.author_id) in own_comments)
                writes.append(self._bounded(group, post, others, self._commented))
        await asyncio.gather(*writes)

    async def _bounded(
        self,
        group: str,
        post: PostDocument,
        others: int,
        recompute: Callable[[PostDocument, int], Awaitable[NotificationDocument | None]],
    ) -> None:
        async with self._concurrency:
            notification = await recompute(post, others)
            if notification is None:
                await self._writer.remove(post.author_id, group)
            else:
                await self._writer.put(notification)

    async def _liked(self, post: PostDocument, others: int) -> NotificationDocument | None:
        """`others`: how many people other than the author like the post."""
        likers = await self._likes.likers(post.id, None, ACTORS + 1)
        newest = [(user, datetime.fromtimestamp(at_ms / 1000, UTC)) for at_ms, user in likers]
        return _group(NotificationKind.POST_LIKED, likes_of(post.id), post, newest, others)

    async def _commented(self, post: PostDocument, others: int) -> NotificationDocument | None:
        """`others`: how many people other than the author commented on the post."""
        commenters, comment = await asyncio.gather(
            self._comments.newest_commenters(post.id, ACTORS + 1),
            self._comments.newest_not_by(post.id, post.author_id),
        )
        if comment is None:
            return None
        key = comments_on(post.id)
        return _group(NotificationKind.POST_COMMENTED, key, post, commenters, others, comment.id)


def _group(
    kind: NotificationKind,
    key: str,
    post: PostDocument,
    newest: list[tuple[str, datetime]],
    others: int,
    comment_id: int | None = None,
) -> NotificationDocument | None:
    """The post's group from its newest people (who, when; newest first), the author
    left out; None when nobody else is behind it."""
    actors = [(user, at) for user, at in newest if user != post.author_id][:ACTORS]
    if not actors:
        return None
    return NotificationDocument(
        key=key,
        recipient=post.author_id,
        kind=kind,
        actors=tuple(user for user, _ in actors),
        actor_count=max(others, len(actors)),
        updated_at=actors[0][1],
        post_id=post.id,
        comment_id=comment_id,
    )
