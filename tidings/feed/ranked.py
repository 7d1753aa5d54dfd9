"""The ranked order: a reading session whose order is frozen at its first page.

The first page (no cursor) takes the viewer's newest `candidates` posts (the
stored timeline, the celebrities they pull, history when the window is short),
scores them once with the clock frozen (ranking.py), and keeps that order
server-side (ranked_sessions.py). Every next page is a slice of it, so within a
session no post repeats and none is skipped, however scores change meanwhile;
bodies, counts and visibility are read live, and a post deleted or no longer
visible is left out. When the session has expired or is used up, pages continue
chronologically below the session's oldest candidate, and say so.

A cursor holds the session, how far into it, and its oldest and newest
candidates: its size never grows with scrolling.
"""

import asyncio
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from tidings.feed.affinity import Affinity
from tidings.feed.cursor import CursorKind, InvalidCursor
from tidings.feed.home import HomeTimeline
from tidings.feed.lookup import ReadLookup
from tidings.feed.paging import FeedPage, check_page_size
from tidings.feed.ranked_sessions import RankedSessions
from tidings.feed.ranking import Ranker
from tidings.feed.read_model import PostView
from tidings.feed.scoring import Signals
from tidings.stores.counters import PostStatsStore

_POSITION = struct.Struct(">QIQQ")


@dataclass(frozen=True, slots=True)
class RankedPosition:
    """Where a ranked page ends: `offset` into session `session` (0 once the
    session ended: then `floor` is the post id the chronological pages continue
    below), and the session's oldest and newest candidates."""

    session: int
    offset: int
    floor: int
    top: int


def _pack(position: RankedPosition) -> bytes:
    return _POSITION.pack(position.session, position.offset, position.floor, position.top)


def _unpack(payload: bytes) -> RankedPosition:
    if len(payload) != _POSITION.size:
        raise InvalidCursor
    return RankedPosition(*_POSITION.unpack(payload))


RANKED = CursorKind(b"k", _pack, _unpack)


class RankedTimeline:
    def __init__(
        self,
        home: HomeTimeline,
        sessions: RankedSessions,
        ranker: Ranker,
        stats: PostStatsStore,
        affinity: Affinity,
        *,
        candidates: int = 500,
    ) -> None:
        self._home = home
        self._sessions = sessions
        self._ranker = ranker
        self._stats = stats
        self._affinity = affinity
        self._candidates = candidates
        self.sessions_started = 0

    @property
    def cursor(self) -> CursorKind[RankedPosition]:
        return RANKED

    async def page(
        self, viewer_id: str, after: RankedPosition | None, first: int, lookup: ReadLookup
    ) -> FeedPage[RankedPosition]:
        check_page_size(first)
        if after is None:
            after = await self.start(viewer_id, lookup)
        if after.session:
            ids = await self._sessions.slice(viewer_id, after.session, after.offset, first + 1)
            if ids:
                return await self._slice(viewer_id, after, ids, first, lookup)
        return await self._chronological(viewer_id, after, first, lookup)

    async def start(self, viewer_id: str, lookup: ReadLookup) -> RankedPosition:
        """Scores the viewer's candidates once and keeps their order: the session's
        position before its first page."""
        now = datetime.now(UTC)
        ids, _ = await self._home.candidate_ids(viewer_id, None, self._candidates, lookup)
        posts = await self._home.shown(viewer_id, ids, lookup)
        order = await self._ranker.order(viewer_id, await self._signals(viewer_id, posts), now)
        session = await self._sessions.start(viewer_id, order)
        self.sessions_started += 1
        # An empty timeline has nothing to continue below: floor 0 ends it.
        return RankedPosition(session, 0, min(ids, default=0), max(ids, default=0))

    async def _signals(self, viewer_id: str, posts: list[PostView]) -> list[Signals]:
        stats, affinity = await asyncio.gather(
            self._stats.of([post.id for post in posts]),
            self._affinity.of(viewer_id, [post.author_id for post in posts]),
        )
        return [
            Signals(
                post.id,
                post.author_id,
                post.created_at,
                affinity=affinity.get(post.author_id, 0.0),
                likes=stats[post.id].likes,
                comments=stats[post.id].comments,
            )
            for post in posts
        ]

    async def _slice(
        self,
        viewer_id: str,
        at: RankedPosition,
        ids: list[int],
        first: int,
        lookup: ReadLookup,
    ) -> FeedPage[RankedPosition]:
        page = ids[:first]
        posts = await self._home.shown(viewer_id, page, lookup)
        index = {post_id: i for i, post_id in enumerate(page)}
        edges = [
            (RankedPosition(at.session, at.offset + index[post.id] + 1, at.floor, at.top), post)
            for post in posts
        ]
        if len(ids) > first:
            return FeedPage(
                edges, True, RankedPosition(at.session, at.offset + first, at.floor, at.top)
            )
        # Used up: what follows is chronological, below the oldest candidate.
        end = RankedPosition(0, 0, at.floor, at.top)
        more = at.floor > 0 and bool(
            (await self._home.candidate_ids(viewer_id, at.floor, 1, lookup))[0]
        )
        return FeedPage(edges, more, end)

    async def _chronological(
        self, viewer_id: str, at: RankedPosition, first: int, lookup: ReadLookup
    ) -> FeedPage[RankedPosition]:
        if at.floor <= 0:
            return FeedPage([], False, None, ranked_session_ended=True)
        page = await self._home.page(viewer_id, at.floor, first, lookup)
        floor = page.end if page.end is not None else at.floor

        def position(post_id: int) -> RankedPosition:
            return RankedPosition(0, 0, post_id, at.top)

        return FeedPage(
            [(position(post_id), post) for post_id, post in page.edges],
            page.has_next,
            position(floor),
            ranked_session_ended=True,
        )
