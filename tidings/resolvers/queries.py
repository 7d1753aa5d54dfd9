"""Query resolvers: check the arguments, ask `feed/`, return domain objects."""

from tidings.feed.errors import BadUserInput
from tidings.feed.home import MAX_PAGE, check_page_size
from tidings.feed.ids import parse_post_id
from tidings.feed.users import parse_user_id
from tidings.feed.visibility import readable_posts
from tidings.resolvers.context import Context
from tidings.resolvers.pages import Page
from tidings.stores.graph import Relation, RelationList, Suggestion
from tidings.stores.posts import PostDocument

# The walk behind suggestions: the viewer's first 200 friends, and 200 friends of
# each, so one request reads at most 40,000 ties whoever is in it.
SUGGESTION_FRIENDS_WALKED = 200
SUGGESTION_SAMPLE_PER_FRIEND = 200


async def timeline(ctx: Context, first: int, after: str | None) -> Page[PostDocument]:
    viewer_id = ctx.require_viewer()
    cursors = ctx.backends.cursors
    before = None if after is None else cursors.decode_post(after)
    page = await ctx.backends.timeline.read(viewer_id, before, first, ctx.loaders)
    edges = [(cursors.encode_post(post.id), post) for post in page.posts]
    end = None if page.next_before is None else cursors.encode_post(page.next_before)
    return Page(edges, has_next=page.has_next, has_previous=after is not None, end_cursor=end)


async def post(ctx: Context, post_id: str) -> PostDocument | None:
    viewer_id = ctx.require_viewer()
    [found] = await readable_posts(viewer_id, [parse_post_id(post_id)], ctx.loaders)
    return found


async def posts(ctx: Context, post_ids: list[str]) -> list[PostDocument | None]:
    viewer_id = ctx.require_viewer()
    if len(post_ids) > MAX_PAGE:
        raise BadUserInput(f"Ask for at most {MAX_PAGE} posts at once.", field="ids")
    ids = [parse_post_id(value) for value in post_ids]
    return await readable_posts(viewer_id, ids, ctx.loaders)


async def user(ctx: Context, user_id: str) -> str | None:
    ctx.require_viewer()
    summary = await ctx.loaders.users.load(parse_user_id(user_id))
    return None if summary is None else summary.id


async def friend_count(ctx: Context, user_id: str) -> int:
    ctx.require_viewer()
    summary = await ctx.loaders.users.load(user_id)
    return 0 if summary is None else summary.friend_count


async def friend_counts(ctx: Context, user_ids: list[str]) -> dict[str, int]:
    """Many users' counts in one batched lookup (a page's authors)."""
    ctx.require_viewer()
    unique = list(dict.fromkeys(user_ids))
    summaries = await ctx.loaders.users.load_many(unique)
    return {
        user_id: 0 if summary is None else summary.friend_count
        for user_id, summary in zip(unique, summaries, strict=True)
    }


async def relation(ctx: Context, user_id: str) -> Relation:
    viewer_id = ctx.require_viewer()
    if user_id == viewer_id:
        return Relation()
    return await ctx.loaders.standing.load((viewer_id, user_id))


async def friends(ctx: Context, user_id: str, first: int, after: str | None) -> Page[str] | None:
    """The user's friends, for the user and their friends only (None for anyone else)."""
    viewer_id = ctx.require_viewer()
    if user_id != viewer_id and not (await relation(ctx, user_id)).friends:
        return None
    cursors = ctx.backends.cursors
    start = None if after is None else cursors.decode_user(after)
    ids = await ctx.backends.graph.friends_page(user_id, start, check_page_size(first) + 1)
    edges = [(cursors.encode_user(friend_id), friend_id) for friend_id in ids[:first]]
    return Page(edges, has_next=len(ids) > first, has_previous=after is not None)


async def ties(
    ctx: Context, user_id: str, kind: RelationList, first: int, after: str | None
) -> Page[str] | None:
    """The viewer's own requests, blocks or mutes, newest first; None on anyone else."""
    viewer_id = ctx.require_viewer()
    if user_id != viewer_id:
        return None
    cursors = ctx.backends.cursors
    start = None if after is None else cursors.decode_tie(after)
    found = await ctx.backends.graph.relations_page(
        viewer_id, kind, start, check_page_size(first) + 1
    )
    edges = [(cursors.encode_tie(at, other), other) for at, other in found[:first]]
    return Page(edges, has_next=len(found) > first, has_previous=after is not None)


async def suggestions(ctx: Context, user_id: str, first: int) -> list[Suggestion]:
    """People the viewer may know; empty for anyone else (they are the viewer's own)."""
    viewer_id = ctx.require_viewer()
    if user_id != viewer_id:
        return []
    return await ctx.backends.graph.suggestions(
        viewer_id,
        check_page_size(first),
        friends_walked=SUGGESTION_FRIENDS_WALKED,
        per_friend=SUGGESTION_SAMPLE_PER_FRIEND,
    )
