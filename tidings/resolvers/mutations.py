"""Mutation resolvers: every one acts as the signed-in viewer, never as anyone else."""

from tidings.feed.ids import parse_post_id
from tidings.resolvers.context import Context
from tidings.stores.posts import PostDocument


async def create_post(ctx: Context, body: str, client: str | None) -> PostDocument:
    viewer_id = ctx.require_viewer()
    return await ctx.backends.posting.create(viewer_id, body, client)


async def add_friend(ctx: Context, user_id: str) -> str:
    viewer_id = ctx.require_viewer()
    friend_id = await ctx.backends.friendships.befriend(viewer_id, user_id)
    # Friend counts read earlier in this request are stale now.
    ctx.loaders.users.clear_all()
    return friend_id


async def remove_friend(ctx: Context, user_id: str) -> str:
    viewer_id = ctx.require_viewer()
    friend_id = await ctx.backends.friendships.unfriend(viewer_id, user_id)
    ctx.loaders.users.clear_all()
    return friend_id


async def delete_post(ctx: Context, post_id: str) -> int:
    viewer_id = ctx.require_viewer()
    parsed = parse_post_id(post_id)
    await ctx.backends.posting.delete(viewer_id, parsed)
    # Anything this request loaded before is stale now.
    ctx.loaders.by_id.clear_all()
    return parsed
