"""Subscription resolvers: the viewer's own live timeline, and nobody else's."""

import asyncio
from collections.abc import AsyncIterator

from tidings.feed.read_model import PostView
from tidings.resolvers.context import Context


async def timeline_posts(ctx: Context) -> AsyncIterator[PostView]:
    viewer_id = ctx.require_viewer()
    ctx.subscriptions += 1  # the socket is not idle while this runs
    try:
        async for post in ctx.backends.live.follow(viewer_id, ctx.loaders):
            yield post
    finally:
        ctx.subscriptions -= 1
        ctx.idle_since = asyncio.get_running_loop().time()
