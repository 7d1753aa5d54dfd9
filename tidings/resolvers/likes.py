"""Likes on a page: counts and the viewer's own likes, one batch step each, and
the likers of one post."""

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from tidings.feed.cursor import CursorKind, InvalidCursor
from tidings.feed.ids import parse_post_id
from tidings.feed.read_model import PostView
from tidings.resolvers.context import Backends, Context
from tidings.resolvers.page_builder import BatchStep
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


def like_counts_loader(backends: Backends, cache: bool) -> DataLoader[int, int]:
    async def load(post_ids: Sequence[int]) -> list[int]:
        counts = await backends.likes.counts(post_ids)
        return [counts[post_id] for post_id in post_ids]

    return DataLoader(load_fn=load, cache=cache)


async def like_count(ctx: Context, post_id: int) -> int:
    """A post outside a page (no batch step ran): batched all the same."""
    ctx.require_viewer()
    return await ctx.loader(like_counts_loader).load(post_id)


async def viewer_has_liked(ctx: Context, post_id: int) -> bool:
    viewer_id = ctx.require_viewer()
    return post_id in await ctx.backends.likes.liked_by(viewer_id, [post_id])


async def _page_counts(ctx: Context, posts: Sequence[PostView]) -> dict[int, int]:
    ids = [post.id for post in posts]
    counts = await ctx.loader(like_counts_loader).load_many(ids)
    return dict(zip(ids, counts, strict=True))


async def _page_viewer_likes(ctx: Context, posts: Sequence[PostView]) -> dict[int, bool]:
    viewer_id = ctx.require_viewer()
    liked = await ctx.backends.likes.liked_by(viewer_id, [post.id for post in posts])
    return {post.id: post.id in liked for post in posts}


LIKE_COUNTS = BatchStep("like counts", frozenset({"likeCount"}), _page_counts)
VIEWER_LIKES = BatchStep("viewer's likes", frozenset({"viewerHasLiked"}), _page_viewer_likes)


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
