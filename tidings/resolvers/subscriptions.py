"""Subscription resolvers: the viewer's own live timeline, and nobody else's."""

from collections.abc import AsyncIterator

from tidings.resolvers.context import Context
from tidings.stores.posts import PostDocument


async def timeline_posts(ctx: Context) -> AsyncIterator[PostDocument]:
    viewer_id = ctx.require_viewer()
    async for post in ctx.backends.live.follow(viewer_id, ctx.loaders):
        yield post
