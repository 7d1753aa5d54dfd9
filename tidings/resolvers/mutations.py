"""Mutation resolvers: every one acts as the signed-in viewer, never as anyone else."""

from collections.abc import Awaitable, Callable

from tidings.feed.ids import parse_post_id
from tidings.resolvers.context import Context
from tidings.stores.posts import PostDocument


async def create_post(
    ctx: Context, body: str, client: str | None, idempotency_key: str | None
) -> PostDocument:
    viewer_id = ctx.require_viewer()
    return await ctx.backends.posting.create(viewer_id, body, client, idempotency_key)


async def add_friend(ctx: Context, user_id: str) -> str:
    return await _change_ties(ctx, ctx.backends.friendships.befriend, user_id)


async def remove_friend(ctx: Context, user_id: str) -> str:
    return await _change_ties(ctx, ctx.backends.friendships.unfriend, user_id)


async def block_user(ctx: Context, user_id: str) -> str:
    return await _change_ties(ctx, ctx.backends.friendships.block, user_id)


async def unblock_user(ctx: Context, user_id: str) -> str:
    return await _change_ties(ctx, ctx.backends.friendships.unblock, user_id)


async def mute_user(ctx: Context, user_id: str) -> str:
    return await _change_ties(ctx, ctx.backends.friendships.mute, user_id)


async def unmute_user(ctx: Context, user_id: str) -> str:
    return await _change_ties(ctx, ctx.backends.friendships.unmute, user_id)


async def _change_ties(
    ctx: Context, change: Callable[[str, str], Awaitable[str]], user_id: str
) -> str:
    viewer_id = ctx.require_viewer()
    other_id = await change(viewer_id, user_id)
    # Counts and ties read earlier in this request, or kept by the process, are stale.
    ctx.loaders.forget_ties()
    if ctx.backends.summaries is not None:
        for stale in (viewer_id, other_id):
            ctx.backends.summaries.evict(stale)
    return other_id


async def delete_post(ctx: Context, post_id: str) -> int:
    viewer_id = ctx.require_viewer()
    parsed = parse_post_id(post_id)
    await ctx.backends.posting.delete(viewer_id, parsed)
    # Anything this request loaded before is stale now.
    ctx.loaders.by_id.clear_all()
    return parsed
