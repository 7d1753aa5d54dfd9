"""Friendship by consent, blocks and mutes, and what each does to both timelines."""

import time

from tidings.feed.backfill import Backfill
from tidings.feed.celebrities import Celebrities
from tidings.feed.errors import BadUserInput
from tidings.feed.friend_lists import friend_chunks
from tidings.feed.notifications import Notifications
from tidings.feed.people import People
from tidings.feed.queue import FanoutQueue
from tidings.feed.rate_limit import RateLimiter
from tidings.feed.ties import TieCache
from tidings.feed.timeline import TimelineStore
from tidings.feed.users import parse_user_id
from tidings.stores.graph import CelebrityChange, FriendGraph, RequestOutcome
from tidings.stores.posts import PostStore

# The same answer whichever side blocked: the blocked side learns nothing more.
_REFUSED = "This user cannot be asked to be friends."


def _now_ms() -> int:
    return int(time.time() * 1000)


class Friendships:
    def __init__(
        self,
        graph: FriendGraph,
        timelines: TimelineStore,
        posts: PostStore,
        celebrities: Celebrities,
        queue: FanoutQueue,
        ties: TieCache,
        *,
        friending: RateLimiter,
        blocking: RateLimiter,
        max_pending_requests: int,
        backfill_posts: int,
        timeline_max: int,
        people: People | None = None,
        notifications: Notifications | None = None,
    ) -> None:
        self._graph = graph
        # Where requests and acceptances are told (the API's; none in tooling).
        self._notifications = notifications
        # Whose friend counts this process keeps, to forget them when they change.
        self._people = people
        self._timelines = timelines
        self._posts = posts
        self._celebrities = celebrities
        self._queue = queue
        self._ties = ties
        self._friending = friending
        self._blocking = blocking
        self._max_pending = max_pending_requests
        self._backfill = Backfill(posts, timelines, posts_per_author=backfill_posts)
        self._timeline_max = timeline_max

    @staticmethod
    def _other(viewer_id: str, user_id: str, verb: str = "befriend") -> str:
        other_id = parse_user_id(user_id)
        if other_id == viewer_id:
            raise BadUserInput(f"You cannot {verb} yourself.", field="userId")
        return other_id

    async def befriend(self, viewer_id: str, user_id: str) -> str:
        """Asks the user to be friends, or accepts their request: friends once both asked."""
        other_id = self._other(viewer_id, user_id)
        await self._friending.take(viewer_id)
        outcome = await self._graph.request_friendship(
            viewer_id, other_id, max_pending=self._max_pending, now_ms=_now_ms()
        )
        if outcome is RequestOutcome.BLOCKED:
            raise BadUserInput(_REFUSED, field="userId")
        if outcome is RequestOutcome.TOO_MANY:
            raise BadUserInput(
                f"You have {self._max_pending} friend requests waiting for an answer; "
                "withdraw some before asking anyone else.",
                field="userId",
            )
        if self._notifications is not None:
            if outcome is RequestOutcome.SENT:
                await self._notifications.friend_requested(viewer_id, other_id)
            elif outcome is RequestOutcome.ACCEPTED:
                await self._notifications.friend_accepted(viewer_id, other_id)
        if outcome is RequestOutcome.ACCEPTED:
            await self._ties.forget([viewer_id, other_id])
            for reader, author in ((viewer_id, other_id), (other_id, viewer_id)):
                await self._backfill.author_into(author, [reader])
            await self._after_change(viewer_id, other_id, added=True)
        return other_id

    async def unfriend(self, viewer_id: str, user_id: str) -> str:
        """Ends a friendship, withdraws a sent request or declines a received one."""
        other_id = self._other(viewer_id, user_id, "unfriend")
        await self._friending.take(viewer_id)
        if await self._graph.remove_friendship(viewer_id, other_id):
            await self._ended(viewer_id, other_id)
        if self._notifications is not None:
            # A request withdrawn is no longer news (a no-op for anything else).
            await self._notifications.request_withdrawn(viewer_id, other_id)
        return other_id

    async def block(self, viewer_id: str, user_id: str) -> str:
        other_id = self._other(viewer_id, user_id, "block")
        await self._blocking.take(viewer_id)
        ended = await self._graph.block(viewer_id, other_id, now_ms=_now_ms())
        await self._ties.forget([viewer_id, other_id])  # a block drops the mute too
        if ended:
            await self._ended(viewer_id, other_id)
        return other_id

    async def unblock(self, viewer_id: str, user_id: str) -> str:
        other_id = self._other(viewer_id, user_id, "unblock")
        await self._blocking.take(viewer_id)
        await self._graph.unblock(viewer_id, other_id)
        return other_id

    async def mute(self, viewer_id: str, user_id: str) -> str:
        """Their posts leave the viewer's timeline and live feed; still friends."""
        other_id = self._other(viewer_id, user_id, "mute")
        await self._blocking.take(viewer_id)
        await self._graph.mute(viewer_id, other_id, now_ms=_now_ms())
        await self._ties.forget([viewer_id])
        await self._prune(viewer_id, other_id)
        # A muted celebrity is no longer pulled into the viewer's pages.
        await self._celebrities.forget([viewer_id])
        return other_id

    async def unmute(self, viewer_id: str, user_id: str) -> str:
        """Their new posts come back; what was posted meanwhile stays out of the cache."""
        other_id = self._other(viewer_id, user_id, "unmute")
        await self._blocking.take(viewer_id)
        await self._graph.unmute(viewer_id, other_id)
        await self._ties.forget([viewer_id])
        # What they posted meanwhile is not stored: history below comes from MongoDB.
        await self._timelines.mark_incomplete(viewer_id)
        await self._celebrities.forget([viewer_id])
        return other_id

    async def _ended(self, first: str, second: str) -> None:
        """A friendship ended (unfriended or blocked): each side's posts leave the other's
        stored timeline. Reads filter anything a racing fan-out puts back."""
        await self._ties.forget([first, second])
        await self._prune(first, second)
        await self._prune(second, first)
        await self._after_change(first, second, added=False)

    async def _prune(self, reader: str, author: str) -> None:
        oldest = await self._timelines.oldest(reader)
        if oldest is not None:
            ids = await self._posts.ids_by_author(author, oldest, self._timeline_max + 1)
            await self._timelines.remove(reader, ids)

    async def _after_change(self, first: str, second: str, *, added: bool) -> None:
        """Handles either user crossing the celebrity threshold, in either direction."""
        if self._people is not None:
            self._people.forget([first, second])
        # Each side's own list of celebrity friends may have gained or lost the other.
        await self._celebrities.forget([first, second])
        for user_id in (first, second):
            change = await self._celebrities.reconsider(user_id)
            if change is CelebrityChange.PROMOTED:
                # Now pulled: readers must learn so before their cache expires.
                async for friends in friend_chunks(self._graph, user_id):
                    await self._celebrities.forget(friends)
            elif change is CelebrityChange.DEMOTED:
                # Pushed again: the worker copies their recent posts into their
                # friends' timelines, and only then lets readers stop pulling them.
                await self._queue.enqueue_backfill(user_id)
