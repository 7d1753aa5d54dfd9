"""Notifications: the viewer's own, paged, counted, marked read and followed live.

What a page of notifications names (people, posts, comments) is looked up through
the request's loaders: one round trip per store for the whole page.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence

from strawberry.dataloader import DataLoader

from tidings.feed.cursor import TIE, CursorKind
from tidings.feed.paging import check_page_size
from tidings.feed.read_model import CommentView, PostView
from tidings.feed.visibility import readable_posts
from tidings.resolvers.context import Context
from tidings.resolvers.pages import Page
from tidings.stores.notifications import NotificationDocument

# A notification in the viewer's list, newest first: when it last moved (ms), and
# its key (signed under a kind of its own).
NOTIFICATION = CursorKind(b"n", TIE.pack, TIE.unpack)


async def newest(
    ctx: Context, user_id: str, first: int, after: str | None
) -> Page[NotificationDocument] | None:
    """The viewer's notifications, newest first; None on anyone else."""
    viewer_id = ctx.require_viewer()
    cursors = ctx.backends.cursors
    start = cursors.decode_optional(NOTIFICATION, after)
    found = await ctx.backends.notifications.newest(viewer_id, user_id, start, first)
    if found is None:
        return None
    return Page.of(
        cursors,
        NOTIFICATION,
        found,
        position=lambda notification: notification.position,
        node=lambda notification: notification,
        after=after,
    )


async def unread_count(ctx: Context, user_id: str) -> int | None:
    return await ctx.backends.notifications.unread_count(ctx.require_viewer(), user_id)


async def mark_read(ctx: Context, ids: Sequence[str] | None) -> str:
    viewer_id = ctx.require_viewer()
    await ctx.backends.notifications.mark_read(viewer_id, ids)
    ctx.forget_loaded()
    return viewer_id


async def follow(ctx: Context) -> AsyncIterator[NotificationDocument]:
    viewer_id = ctx.require_viewer()
    ctx.subscriptions += 1  # the socket is not idle while this runs
    try:
        async for notification in ctx.backends.notifications.follow(viewer_id):
            yield notification
    finally:
        ctx.subscriptions -= 1
        ctx.idle_since = asyncio.get_running_loop().time()


def _hidden(ctx: Context) -> DataLoader[str, bool]:
    viewer_id = ctx.require_viewer()

    async def load(user_ids: Sequence[str]) -> list[bool]:
        hidden = await ctx.backends.notifications.hidden_from(viewer_id, user_ids)
        return [user_id in hidden for user_id in user_ids]

    return DataLoader(load_fn=load, cache=ctx.cache_loaded)


def _comments(ctx: Context) -> DataLoader[int, CommentView | None]:
    async def load(comment_ids: Sequence[int]) -> list[CommentView | None]:
        found = await ctx.backends.notifications.comments(comment_ids)
        return [found.get(comment_id) for comment_id in comment_ids]

    return DataLoader(load_fn=load, cache=ctx.cache_loaded)


async def actors(ctx: Context, notification: NotificationDocument, first: int) -> list[str]:
    """Its newest people, without anyone the viewer blocked or was blocked by."""
    check_page_size(first)
    hidden = await ctx.loader(_hidden).load_many(list(notification.actors))
    shown = [actor for actor, gone in zip(notification.actors, hidden, strict=True) if not gone]
    return shown[:first]


async def post(ctx: Context, notification: NotificationDocument) -> PostView | None:
    if notification.post_id is None:
        return None
    [found] = await readable_posts(ctx.require_viewer(), [notification.post_id], ctx.loaders)
    return found


async def comment(ctx: Context, notification: NotificationDocument) -> CommentView | None:
    """The newest comment, unless by someone hidden from the viewer: asked of the
    same loader as the actors, so the page's blocks are one graph query (the newest
    commenter is one of the actors)."""
    if notification.comment_id is None:
        return None
    found = await ctx.loader(_comments).load(notification.comment_id)
    if found is None or await ctx.loader(_hidden).load(found.author_id):
        return None
    return found
