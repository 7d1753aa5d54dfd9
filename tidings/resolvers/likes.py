"""Likes on a page: counts and the viewer's own likes, one batch step each, and
the likers of one post."""

from collections.abc import Sequence

from tidings.feed.cursor import CursorKind, InvalidCursor
from tidings.feed.ids import parse_post_id
from tidings.feed.read_model import PostView
from tidings.resolvers.context import Context
from tidings.resolvers.page_builder import PostValues
from tidings.resolvers.pages import Page
from tidings.stores.likes import LikerPosition


def _pack_liker(position: LikerPosition) -> bytes:
    return position[0].to_bytes(8, "big") + position[1].encode()


def _unpack_liker(payload: bytes) -> LikerPosition:
    if len(payload) < 9:
        raise InvalidCursor
    try:
        return int.from_bytes(payload[:8], "big"), payload[8:].decode()
    except UnicodeDecodeError:
        raise InvalidCursor from None


# A liker in a post's likers, newest first: when they liked it (ms), and who.
LIKER = CursorKind(b"l", _pack_liker, _unpack_liker)


async def _viewer_likes(ctx: Context, post_ids: Sequence[int]) -> dict[int, bool]:
    liked = await ctx.backends.likes.liked_by(ctx.require_viewer(), post_ids)
    return {post_id: post_id in liked for post_id in post_ids}


async def _like_counts(ctx: Context, post_ids: Sequence[int]) -> dict[int, int]:
    stats = await ctx.loaders.stats.load_many(post_ids)
    return {post_id: figures.likes for post_id, figures in zip(post_ids, stats, strict=True)}


LIKE_COUNTS = PostValues("like counts", "likeCount", _like_counts)
VIEWER_LIKES = PostValues("viewer's likes", "viewerHasLiked", _viewer_likes)


async def like_post(ctx: Context, post_id: str) -> PostView:
    viewer_id = ctx.require_viewer()
    post = await ctx.backends.likes.like(viewer_id, parse_post_id(post_id), ctx.loaders)
    ctx.forget_loaded()
    return post


async def unlike_post(ctx: Context, post_id: str) -> PostView:
    viewer_id = ctx.require_viewer()
    post = await ctx.backends.likes.unlike(viewer_id, parse_post_id(post_id), ctx.loaders)
    ctx.forget_loaded()
    return post


async def likers(ctx: Context, post_id: int, first: int, after: str | None) -> Page[str]:
    """Who liked the post, newest first; NOT_FOUND unless the viewer may read it."""
    viewer_id = ctx.require_viewer()
    cursors = ctx.backends.cursors
    start = cursors.decode_optional(LIKER, after)
    found = await ctx.backends.likes.likers(viewer_id, post_id, start, first, ctx.loaders)
    return Page.of(
        cursors,
        LIKER,
        found,
        position=lambda liker: liker,
        node=lambda liker: liker[1],
        after=after,
    )
