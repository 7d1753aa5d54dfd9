"""Comments: counts and first comments on a page in one batch step each, threads,
adding and deleting."""

from collections.abc import Awaitable, Sequence

from tidings.feed.comments import FirstComments
from tidings.feed.cursor import POST_ID, CursorKind
from tidings.feed.errors import BadUserInput
from tidings.feed.ids import parse_post_id
from tidings.feed.paging import check_page_size
from tidings.feed.read_model import CommentView, PostView
from tidings.feed.visibility import readable_post
from tidings.resolvers.context import Context
from tidings.resolvers.page_builder import BatchStep, PageFacts, PostValues
from tidings.resolvers.pages import Page

# A comment in a post's thread, oldest first: its time-ordered id (signed under a
# kind of its own, so a post's cursor is refused here and the other way round).
COMMENT = CursorKind(b"c", POST_ID.pack, POST_ID.unpack)


async def _comment_counts(ctx: Context, post_ids: Sequence[int]) -> dict[int, int]:
    stats = await ctx.loaders.stats.load_many(post_ids)
    return {post_id: figures.comments for post_id, figures in zip(post_ids, stats, strict=True)}


COMMENT_COUNTS = PostValues("comment counts", "commentCount", _comment_counts)


async def _first_comments(ctx: Context, posts: Sequence[PostView]) -> dict[int, FirstComments]:
    viewer_id = ctx.require_viewer()
    post_ids = [post.id for post in posts]
    stats = await ctx.loaders.stats.load_many(post_ids)
    stored = {
        post_id: figures.first_comments for post_id, figures in zip(post_ids, stats, strict=True)
    }
    return await ctx.backends.comments.first_comments(viewer_id, stored)


# What a feed shows under each post: its first comments, for the page at once.
FIRST_COMMENTS = BatchStep("first comments", frozenset({"comments"}), _first_comments)


ThreadPage = tuple[list[CommentView], bool, int | None]


def thread(
    ctx: Context, post_id: int, first: int, after: str | None, facts: PageFacts
) -> Page[CommentView] | Awaitable[Page[CommentView]]:
    """The post's comments, oldest first; NOT_FOUND unless the viewer may read it.
    A first page the page's first comments answer is a plain value (nothing to
    await per post); any other is read from the thread, and awaited."""
    viewer_id = ctx.require_viewer()
    start = ctx.backends.cursors.decode_optional(COMMENT, after)
    preview = facts.get(FIRST_COMMENTS, post_id) if start is None else None
    answer = None if preview is None else preview.first_page(check_page_size(first))
    if answer is not None:
        return _page(ctx, answer, after)

    async def read() -> Page[CommentView]:
        found = await ctx.backends.comments.thread(viewer_id, post_id, start, first, ctx.loaders)
        return _page(ctx, found, after)

    return read()


def _page(ctx: Context, answer: ThreadPage, after: str | None) -> Page[CommentView]:
    comments, has_next, end = answer
    cursors = ctx.backends.cursors
    edges = [(cursors.encode(COMMENT, comment.id), comment) for comment in comments]
    end_cursor = None if end is None else cursors.encode(COMMENT, end)
    return Page(edges, has_next=has_next, has_previous=after is not None, end_cursor=end_cursor)


async def add_comment(
    ctx: Context, post_id: str, body: str, idempotency_key: str | None
) -> CommentView:
    viewer_id = ctx.require_viewer()
    comment = await ctx.backends.comments.add(
        viewer_id, parse_post_id(post_id), body, idempotency_key, ctx.loaders
    )
    ctx.forget_loaded()
    return comment


async def delete_comment(ctx: Context, comment_id: str) -> int:
    viewer_id = ctx.require_viewer()
    try:
        parsed = parse_post_id(comment_id)
    except BadUserInput:
        raise BadUserInput("A comment id is a number this API returned.") from None
    await ctx.backends.comments.delete(viewer_id, parsed, ctx.loaders)
    ctx.forget_loaded()
    return parsed


async def post_of(ctx: Context, comment: CommentView) -> PostView:
    """The post a comment answers (the viewer saw the comment, so may read it)."""
    return await readable_post(ctx.require_viewer(), comment.post_id, ctx.loaders)
