"""Query resolvers: check the arguments, ask `feed/`, return domain objects."""

from tidings.feed.errors import BadUserInput
from tidings.feed.home import MAX_PAGE, check_page_size
from tidings.feed.ids import parse_post_id
from tidings.feed.users import parse_user_id
from tidings.resolvers.context import Context
from tidings.resolvers.pages import Page
from tidings.stores.posts import PostDocument


async def timeline(ctx: Context, first: int, after: str | None) -> Page[PostDocument]:
    viewer_id = ctx.require_viewer()
    cursors = ctx.backends.cursors
    before = None if after is None else cursors.decode_post(after)
    page = await ctx.backends.timeline.read(viewer_id, before, first, ctx.loaders)
    edges = [(cursors.encode_post(post.id), post) for post in page.posts]
    end = None if page.next_before is None else cursors.encode_post(page.next_before)
    return Page(edges, has_next=page.has_next, has_previous=after is not None, end_cursor=end)


async def post(ctx: Context, post_id: str) -> PostDocument | None:
    ctx.require_viewer()
    return await ctx.loaders.by_id.load(parse_post_id(post_id))


async def posts(ctx: Context, post_ids: list[str]) -> list[PostDocument | None]:
    ctx.require_viewer()
    if len(post_ids) > MAX_PAGE:
        raise BadUserInput(f"Ask for at most {MAX_PAGE} posts at once.", field="ids")
    return await ctx.loaders.posts([parse_post_id(value) for value in post_ids])


async def user(ctx: Context, user_id: str) -> str | None:
    ctx.require_viewer()
    summary = await ctx.loaders.users.load(parse_user_id(user_id))
    return None if summary is None else summary.id


async def friend_count(ctx: Context, user_id: str) -> int:
    ctx.require_viewer()
    summary = await ctx.loaders.users.load(user_id)
    return 0 if summary is None else summary.friend_count


async def friends(ctx: Context, user_id: str, first: int, after: str | None) -> Page[str]:
    ctx.require_viewer()
    cursors = ctx.backends.cursors
    start = None if after is None else cursors.decode_user(after)
    ids = await ctx.backends.graph.friends_page(user_id, start, check_page_size(first) + 1)
    edges = [(cursors.encode_user(friend_id), friend_id) for friend_id in ids[:first]]
    return Page(edges, has_next=len(ids) > first, has_previous=after is not None)
