"""A viewer's live timeline: the posts entering it, as they arrive, for as long as asked."""

import asyncio
from collections.abc import AsyncIterator

from tidings.feed.celebrities import Celebrities
from tidings.feed.home import HomeTimeline
from tidings.feed.live import LiveHub, stop_if_cancelled
from tidings.feed.lookup import ReadLookup
from tidings.feed.read_model import PostView
from tidings.feed.visibility import visible


class LiveTimeline:
    def __init__(
        self,
        home: HomeTimeline,
        celebrities: Celebrities,
        hub: LiveHub,
        *,
        celebrity_refresh_seconds: float,
    ) -> None:
        self._home = home
        self._celebrities = celebrities
        self._hub = hub
        self._refresh_seconds = celebrity_refresh_seconds

    async def follow(self, viewer_id: str, lookup: ReadLookup) -> AsyncIterator[PostView]:
        # A subscriber is a reader: make sure fan-out writes (and so announces) to them.
        await self._home.keep_fresh(viewer_id, lookup)
        celebrities = await self._celebrities.friends_of(viewer_id)
        stop_if_cancelled()
        async with self._hub.listen(viewer_id, celebrities) as listener:
            loop = asyncio.get_running_loop()
            refresh_at = loop.time() + self._refresh_seconds
            while True:
                stop_if_cancelled()
                try:
                    post = await asyncio.wait_for(listener.next(), timeout=refresh_at - loop.time())
                except TimeoutError:
                    # Friends become, or stop being, celebrities while we listen.
                    celebrities = await self._celebrities.friends_of(viewer_id)
                    await self._hub.follow_celebrities(listener, celebrities)
                    refresh_at = loop.time() + self._refresh_seconds
                    continue
                # Checked as a timeline read is, once per burst of arrivals: a post
                # fanned out as a friendship ended, or by a celebrity just unfriended
                # or muted, is not shown.
                arrived = [post, *listener.take_ready()]
                for shown in await visible(viewer_id, arrived, lookup, timeline=True):
                    if shown is not None:
                        yield shown
