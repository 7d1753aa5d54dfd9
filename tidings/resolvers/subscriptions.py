"""Subscription resolvers: the viewer's own live timeline, and nobody else's."""

import asyncio
from collections.abc import AsyncIterator

from tidings.resolvers.context import Context
from tidings.stores.posts import PostDocument


def _stop_if_cancelled() -> None:
    """Ends the subscription if it was cancelled while a client library swallowed it.

    redis-py and PyMongo can lose a cancellation that lands mid-command (seen
    here on Python 3.11: about 1 in 4 for a Redis GET in a tight loop), which
    would leave a disconnected subscriber's task, listener and channels alive.
    The task's cancellation count survives, so we look at it after each call.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def timeline_posts(ctx: Context) -> AsyncIterator[PostDocument]:
    viewer_id = ctx.require_viewer()
    backends = ctx.backends
    # A subscriber is a reader: make sure fan-out writes (and so announces) to them.
    await backends.home.keep_fresh(viewer_id)
    celebrities = await backends.celebrities.friends_of(viewer_id)
    _stop_if_cancelled()
    async with backends.live.listen(viewer_id, celebrities) as listener:
        loop = asyncio.get_running_loop()
        refresh_at = loop.time() + backends.celebrity_refresh_seconds
        while True:
            _stop_if_cancelled()
            try:
                post = await asyncio.wait_for(listener.next(), timeout=refresh_at - loop.time())
            except TimeoutError:
                # Friends become, or stop being, celebrities while we listen.
                celebrities = await backends.celebrities.friends_of(viewer_id)
                await backends.live.follow_celebrities(listener, celebrities)
                refresh_at = loop.time() + backends.celebrity_refresh_seconds
                continue
            yield post
