"""Where the viewer is in their timeline: what is new above a position, and the
newest post they have read, kept across devices."""

from datetime import UTC, datetime

from tidings.feed.home import NEWER_MAX, HomeTimeline
from tidings.feed.lookup import ReadLookup
from tidings.feed.paging import check_page_size
from tidings.feed.rate_limit import RateLimiter
from tidings.feed.read_model import PostView
from tidings.feed.visibility import readable_post
from tidings.stores.markers import MarkerStore, TimelineMarker


class Reading:
    def __init__(self, home: HomeTimeline, markers: MarkerStore, marking: RateLimiter) -> None:
        self._home = home
        self._markers = markers
        self._marking = marking

    async def newer(
        self, viewer_id: str, above: int, last: int, lookup: ReadLookup
    ) -> tuple[list[PostView], bool]:
        """The `last` posts nearest above `above`, newest first, and whether more
        newer ones exist (Relay's backward page)."""
        ids, more = await self._home.newer_ids(
            viewer_id, above, check_page_size(last, "last"), lookup
        )
        posts = await self._home.shown(viewer_id, list(reversed(ids)), lookup)
        return posts, more

    async def count_newer(self, viewer_id: str, above: int, lookup: ReadLookup) -> int:
        """How many posts are above `above` (what backward paging would page
        through), capped at `NEWER_MAX`."""
        ids, _ = await self._home.newer_ids(viewer_id, above, NEWER_MAX, lookup)
        return len(ids)

    async def mark(self, viewer_id: str, post_id: int, lookup: ReadLookup) -> TimelineMarker:
        """Moves the viewer's marker forward to a post they may read (never back)."""
        await readable_post(viewer_id, post_id, lookup)
        await self._marking.take(viewer_id)
        return await self._markers.advance(viewer_id, post_id, datetime.now(UTC))

    async def marker(self, viewer_id: str, user_id: str) -> TimelineMarker | None:
        """The viewer's own; None for anyone else's."""
        if user_id != viewer_id:
            return None
        return await self._markers.get(viewer_id)
