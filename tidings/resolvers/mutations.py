"""Mutation resolvers: every one acts as the signed-in viewer, never as anyone else."""

from collections.abc import Awaitable, Callable, Sequence

from tidings.feed.ids import parse_post_id
from tidings.feed.read_model import PostView
from tidings.resolvers.context import Context
from tidings.stores.media import Attachment


async def create_post(
    ctx: Context,
    body: str,
    client: str | None,
    idempotency_key: str | None,
    media: Sequence[Attachment] = (),
) -> PostView:
    viewer_id = ctx.require_viewer()
    posting = ctx.backends.posting
    return PostView.of(await posting.create(viewer_id, body, client, idempotency_key, media))


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
    ctx.forget_loaded()
    return other_id


async def delete_post(ctx: Context, post_id: str) -> int:
    viewer_id = ctx.require_viewer()
    parsed = parse_post_id(post_id)
    await ctx.backends.posting.delete(viewer_id, parsed)
    ctx.forget_loaded()
    return parsed
