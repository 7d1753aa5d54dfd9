"""Reading a home timeline: the pushed part from Redis, celebrities pulled at read
time, and history past the cached window from MongoDB, under one keyset cursor.
"""

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tidings.feed.celebrities import Celebrities
from tidings.feed.cursor import POST_ID, CursorKind
from tidings.feed.friend_lists import friend_ids
from tidings.feed.ids import smallest_post_id_at
from tidings.feed.lookup import ReadLookup
from tidings.feed.paging import FeedPage, check_page_size
from tidings.feed.read_model import PostView
from tidings.feed.timeline import TimelineRead, TimelineStore
from tidings.feed.visibility import visible
from tidings.stores.breaker import StoreUnavailable
from tidings.stores.graph import FriendGraph
from tidings.stores.posts import PostDocument

_MARK_READ_EVERY = 60.0
# Posts looked at above a cursor (pull to refresh, the "new posts" count).
NEWER_MAX = 1_000


def _outcome_taken(task: "asyncio.Future[Any]") -> None:
    # A history query the page stopped waiting for: its error (an outage, most
    # likely) was answered for already.
    if not task.cancelled():
        task.exception()


class HomeTimeline:
    """The latest-first order: a position is a post id, and a page holds the posts
    below it. (It is also what every other order reads its candidates from.)"""

    def __init__(
        self,
        timelines: TimelineStore,
        graph: FriendGraph,
        celebrities: Celebrities,
        *,
        timeline_max: int,
        active_days: int,
        retention_days: int,
        rebuild_lock_ms: int = 30_000,
        history_wait_seconds: float = 0.3,
    ) -> None:
        self._timelines = timelines
        self._graph = graph
        self._celebrities = celebrities
        self._timeline_max = timeline_max
        self._active_seconds = active_days * 86_400
        self._retention = timedelta(days=retention_days)
        self._rebuild_lock_ms = rebuild_lock_ms
        # How long a page with cached posts waits for the history below them,
        # before it answers with what Redis holds.
        self._history_wait = history_wait_seconds
        self.rebuilds = 0
        self.celebrity_merges = 0
        # Pages answered in a degraded way while a store was down.
        self.pulled_pages = 0
        self.partial_pages = 0
        # Seconds one page took to assemble, for a latency histogram.
        self.on_read: Callable[[float], None] = lambda _seconds: None

    def horizon_id(self) -> int:
        """The oldest post id still within retention."""
        return smallest_post_id_at(datetime.now(UTC) - self._retention)

    @property
    def cursor(self) -> CursorKind[int]:
        return POST_ID

    async def page(
        self, viewer_id: str, before: int | None, first: int, lookup: ReadLookup
    ) -> FeedPage[int]:
        """The viewer's page of up to `first` posts older than `before`, hydrated,
        newest first. Posts deleted since they were listed, and posts of anyone who is no
        longer a friend (a fan-out that raced the end of a friendship, a stale
        celebrity list) or whom the viewer muted, are left out, not shown as holes."""
        started = time.perf_counter()
        try:
            ids, has_next = await self.page_ids(viewer_id, before, first, lookup)
        except StoreUnavailable as outage:
            if outage.store != "redis":
                raise
            # No timelines: read the way a pure pull feed would, from the graph and
            # MongoDB. Slower, and the same posts under the same cursors.
            self.pulled_pages += 1
            ids, has_next = await self._pulled(viewer_id, before, first, lookup)
        posts = await self.shown(viewer_id, ids, lookup)
        self.on_read(time.perf_counter() - started)
        # The next page starts below the oldest id this page considered, which keeps
        # paging keyset-exact when a post was left out.
        return FeedPage([(post.id, post) for post in posts], has_next, ids[-1] if ids else None)

    async def shown(self, viewer_id: str, ids: list[int], lookup: ReadLookup) -> list[PostView]:
        """The posts of these ids the viewer may see now, in the same order."""
        shown = await visible(viewer_id, await self._hydrated(ids, lookup), lookup, timeline=True)
        return [post for post in shown if post is not None]

    async def _pulled(
        self, viewer_id: str, before: int | None, first: int, lookup: ReadLookup
    ) -> tuple[list[int], bool]:
        wanted = check_page_size(first) + 1
        authors = [viewer_id, *await friend_ids(self._graph, viewer_id)]
        found = [post.id for post in await lookup.recent(authors, before, wanted)]
        return found[:first], len(found) > first

    async def _hydrated(self, ids: list[int], lookup: ReadLookup) -> list[PostDocument | None]:
        """The posts, from the process's cache alone if MongoDB is down."""
        try:
            return await lookup.posts(ids)
        except StoreUnavailable as outage:
            cached = lookup.cached_posts(ids)
            if outage.store != "mongodb" or (ids and not cached):
                raise
            # A page of what this process holds beats no page: the rest is left out.
            self.partial_pages += 1
            return [cached.get(post_id) for post_id in ids]

    async def page_ids(
        self, viewer_id: str, before: int | None, first: int, lookup: ReadLookup
    ) -> tuple[list[int], bool]:
        """Up to `first` post ids older than `before`, newest first, and whether more follow."""
        return await self.candidate_ids(viewer_id, before, check_page_size(first), lookup)

    async def candidate_ids(
        self, viewer_id: str, before: int | None, first: int, lookup: ReadLookup
    ) -> tuple[list[int], bool]:
        """`page_ids` for any number (a ranked session reads hundreds at once)."""
        wanted = first + 1  # one extra tells whether a next page exists
        cached = await self._fresh(viewer_id, before, wanted, lookup)
        celebrities = await self._celebrities.friends_given(
            viewer_id, cached.cached_celebrity_friends
        )

        candidates = set(cached.post_ids)
        if len(cached.post_ids) < wanted and not cached.complete:
            # The cached window ends above this page: continue from MongoDB, from
            # just below the oldest cached entry, back to the retention horizon.
            # (A complete timeline has nothing below it: no question to ask.)
            older = await self._history(viewer_id, cached.post_ids, before, wanted, lookup)
            if older is None:
                # The cached part is a page; what lies below it waits for MongoDB,
                # and the cursor says there may be more.
                self.partial_pages += 1
                return cached.post_ids[:first], True
            candidates.update(older)
        if celebrities:
            self.celebrity_merges += 1
            try:
                pulled = await lookup.recent(celebrities, before, wanted)
            except StoreUnavailable as outage:
                if outage.store != "mongodb":
                    raise
                # MongoDB is down: the pushed part alone is still a page.
                self.partial_pages += 1
                pulled = []
            candidates.update(post.id for post in pulled)
        ordered = sorted(candidates, reverse=True)[:wanted]
        return ordered[:first], len(ordered) > first

    async def newer_ids(
        self, viewer_id: str, above: int, limit: int, lookup: ReadLookup
    ) -> tuple[list[int], bool]:
        """Up to `limit` post ids newer than `above`, oldest first (nearest it), and
        whether more newer ones exist: pull to refresh, and the "new posts" count.
        At most `NEWER_MAX` are looked at above a cursor."""
        wanted = min(limit, NEWER_MAX) + 1
        cached = await self._fresh(viewer_id, None, 1, lookup)
        celebrities = await self._celebrities.friends_given(
            viewer_id, cached.cached_celebrity_friends
        )
        stored, oldest = await self._timelines.above(viewer_id, above, wanted)
        found = set(stored)
        if not cached.complete and (oldest is None or oldest > above + 1):
            # The cursor is below the stored window: the gap comes from MongoDB.
            authors = [viewer_id, *await friend_ids(self._graph, viewer_id)]
            gap = await lookup.recent(authors, oldest, NEWER_MAX, since_id=above + 1)
            found.update(post.id for post in gap)
        if celebrities:
            pulled = await lookup.recent(celebrities, None, NEWER_MAX, since_id=above + 1)
            found.update(post.id for post in pulled)
        nearest = sorted(found)[:wanted]
        return nearest[: wanted - 1], len(nearest) == wanted

    async def _history(
        self,
        viewer_id: str,
        cached: list[int],
        before: int | None,
        wanted: int,
        lookup: ReadLookup,
    ) -> list[int] | None:
        """Ids below the cached ones, from MongoDB; None if MongoDB is down or slow
        and the cached ones can make the page on their own."""
        floor = cached[-1] if cached else before
        authors = [viewer_id, *await friend_ids(self._graph, viewer_id)]
        query = asyncio.ensure_future(lookup.recent(authors, floor, wanted - len(cached)))
        if cached:
            done, _ = await asyncio.wait({query}, timeout=self._history_wait)
            if not done:
                # Its outcome is not awaited any more: take it when it comes.
                query.add_done_callback(_outcome_taken)
                return None
        try:
            older = await query
        except StoreUnavailable as outage:
            if outage.store != "mongodb" or not cached:
                raise
            return None
        return [post.id for post in older]

    async def keep_fresh(self, viewer_id: str, lookup: ReadLookup) -> None:
        """Makes sure fan-out reaches this user from now on: built, and marked as reading."""
        await self._fresh(viewer_id, None, 0, lookup)

    async def _fresh(
        self, viewer_id: str, before: int | None, wanted: int, lookup: ReadLookup
    ) -> TimelineRead:
        now = time.time()
        cached = await self._timelines.read(viewer_id, before, wanted)
        if (
            not cached.built
            or cached.last_read is None
            or (cached.last_read < now - self._active_seconds)
        ):
            # Lost, never built, or not kept up while the user was away.
            await self._rebuild(viewer_id, lookup)
            return await self._timelines.read(viewer_id, before, wanted)
        if now - cached.last_read > _MARK_READ_EVERY:
            await self._timelines.mark_read(viewer_id, now)
        return cached

    async def _rebuild(self, user_id: str, lookup: ReadLookup) -> None:
        token = await self._timelines.lock_rebuild(user_id, self._rebuild_lock_ms)
        if token is None:
            # Someone else is rebuilding it: wait for theirs rather than race it.
            deadline = time.monotonic() + self._rebuild_lock_ms / 1000
            while await self._timelines.rebuild_in_progress(user_id):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.02)
            return
        try:
            self.rebuilds += 1
            authors = [user_id, *await friend_ids(self._graph, user_id)]
            horizon = self.horizon_id()
            posts = await lookup.recent(authors, None, self._timeline_max, since_id=horizon)
            post_ids = [post.id for post in posts]
            # Fewer than the cap: every post since the horizon is there.
            complete = len(post_ids) < self._timeline_max
            await self._timelines.build(user_id, post_ids, time.time(), complete=complete)
            # A post inserted while we queried was fanned out before the timeline
            # counted as built, and so skipped it; its insert precedes this query.
            newest = max(post_ids, default=horizon - 1)
            late = await lookup.recent(authors, None, self._timeline_max, since_id=newest + 1)
            await self._timelines.add(user_id, [post.id for post in late])
        finally:
            await self._timelines.unlock_rebuild(user_id, token)
