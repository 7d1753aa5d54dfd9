"""The home timeline's arguments and pages: LATEST (newest first, forward and
backward), RANKED (reading sessions), what is new above a cursor, and the marker."""

from tidings.feed.cursor import POST_ID
from tidings.feed.errors import BadUserInput
from tidings.feed.ids import parse_post_id
from tidings.feed.ranked import RANKED
from tidings.feed.read_model import PostView
from tidings.resolvers.context import Context
from tidings.resolvers.pages import Page, feed_page
from tidings.stores.markers import TimelineMarker

DEFAULT_PAGE = 20


async def timeline(
    ctx: Context,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    ranked: bool,
) -> Page[PostView]:
    """Forward pages of either order (`first`, `after`), or, with a LATEST cursor,
    the posts above it (`last`, `before`)."""
    viewer_id = ctx.require_viewer()
    if first is not None and last is not None:
        raise BadUserInput("Give `first` or `last`, not both.", field="last")
    if after is not None and before is not None:
        raise BadUserInput("Give `after` or `before`, not both.", field="before")
    if before is not None and ranked:
        raise BadUserInput("`before` pages the LATEST order only.", field="before")
    if (last is not None) != (before is not None):
        raise BadUserInput("`last` goes with `before`, to page above a cursor.", field="last")
    if before is not None and last is not None:
        cursors = ctx.backends.cursors
        above = cursors.decode(POST_ID, before)
        posts, more = await ctx.backends.reading.newer(viewer_id, above, last, ctx.loaders)
        edges = [(cursors.encode(POST_ID, post.id), post) for post in posts]
        # Below these come the cursor's post and what follows it.
        return Page(edges, has_next=True, has_previous=more)
    size = DEFAULT_PAGE if first is None else first
    if ranked:
        return await feed_page(ctx, ctx.backends.ranked, size, after)
    return await feed_page(ctx, ctx.backends.timeline, size, after)


async def new_post_count(ctx: Context, since: str) -> int:
    """Posts above a cursor of either order: its post (LATEST), or its session's
    newest candidate (RANKED)."""
    viewer_id = ctx.require_viewer()
    cursors = ctx.backends.cursors
    try:
        above = cursors.decode(POST_ID, since)
    except BadUserInput:
        above = cursors.decode(RANKED, since).top
    return await ctx.backends.reading.count_newer(viewer_id, above, ctx.loaders)


async def mark_read(ctx: Context, post_id: str) -> TimelineMarker:
    viewer_id = ctx.require_viewer()
    marker = await ctx.backends.reading.mark(viewer_id, parse_post_id(post_id), ctx.loaders)
    ctx.forget_loaded()
    return marker


async def marker(ctx: Context, user_id: str) -> TimelineMarker | None:
    return await ctx.backends.reading.marker(ctx.require_viewer(), user_id)


def marker_cursor(ctx: Context, marker: TimelineMarker) -> str:
    """A LATEST cursor at the marker's post: `before` it gives what came since."""
    return ctx.backends.cursors.encode(POST_ID, marker.post_id)
