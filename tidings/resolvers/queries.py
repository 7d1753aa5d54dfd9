"""Query resolvers: check who asks, call a use-case, return read models."""

from tidings.feed.cursor import TIE, USER_ID
from tidings.feed.errors import BadUserInput
from tidings.feed.ids import parse_post_id
from tidings.feed.paging import MAX_PAGE
from tidings.feed.read_model import PostView
from tidings.feed.users import parse_user_id
from tidings.feed.visibility import readable_posts
from tidings.resolvers.context import Context
from tidings.resolvers.pages import Page
from tidings.stores.graph import Relation, RelationList, Suggestion


async def post(ctx: Context, post_id: str) -> PostView | None:
    viewer_id = ctx.require_viewer()
    [found] = await readable_posts(viewer_id, [parse_post_id(post_id)], ctx.loaders)
    return found


async def posts_by_id(ctx: Context, post_ids: list[int]) -> list[PostView | None]:
    return await readable_posts(ctx.require_viewer(), post_ids, ctx.loaders)


async def posts(ctx: Context, post_ids: list[str]) -> list[PostView | None]:
    viewer_id = ctx.require_viewer()
    if len(post_ids) > MAX_PAGE:
        raise BadUserInput(f"Ask for at most {MAX_PAGE} posts at once.", field="ids")
    ids = [parse_post_id(value) for value in post_ids]
    return await readable_posts(viewer_id, ids, ctx.loaders)


async def user(ctx: Context, user_id: str) -> str:
    """Any well-formed id answers the same way, seen or not: whether someone was
    ever requested, blocked or muted is nobody else's to learn."""
    ctx.require_viewer()
    return parse_user_id(user_id)


async def relation(ctx: Context, user_id: str) -> Relation:
    viewer_id = ctx.require_viewer()
    if user_id == viewer_id:
        return Relation()
    return await ctx.loaders.standing.load((viewer_id, user_id))


async def friends(ctx: Context, user_id: str, first: int, after: str | None) -> Page[str] | None:
    """The user's friends, for the user and their friends only (None for anyone else)."""
    viewer_id = ctx.require_viewer()
    cursors = ctx.backends.cursors
    start = cursors.decode_optional(USER_ID, after)
    found = await ctx.backends.people.friends(viewer_id, user_id, start, first, ctx.loaders)
    if found is None:
        return None
    return Page.of(cursors, USER_ID, found, position=str, node=str, after=after)


async def ties(
    ctx: Context, user_id: str, kind: RelationList, first: int, after: str | None
) -> Page[str] | None:
    """The viewer's own requests, blocks or mutes, newest first; None on anyone else."""
    viewer_id = ctx.require_viewer()
    cursors = ctx.backends.cursors
    start = cursors.decode_optional(TIE, after)
    found = await ctx.backends.people.own_ties(viewer_id, user_id, kind, start, first)
    if found is None:
        return None
    return Page.of(
        cursors, TIE, found, position=lambda tie: tie, node=lambda tie: tie[1], after=after
    )


async def suggestions(ctx: Context, user_id: str, first: int) -> list[Suggestion]:
    """People the viewer may know; empty for anyone else (they are the viewer's own)."""
    viewer_id = ctx.require_viewer()
    return await ctx.backends.people.suggestions(viewer_id, user_id, first)
