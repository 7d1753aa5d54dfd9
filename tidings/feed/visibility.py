"""Who may see a post: its author and the author's friends at the time of the read.

A post the viewer may not see answers exactly as a missing one. In timelines and
the live feed, posts of users the viewer muted are left out too; asked for by id,
they are still shown.
"""

from collections.abc import Sequence

from tidings.feed.errors import NotFound
from tidings.feed.lookup import ReadLookup
from tidings.feed.read_model import PostView
from tidings.stores.graph import Relation
from tidings.stores.posts import PostDocument


def may_read(viewer_id: str, author_id: str, relation: Relation) -> bool:
    return author_id == viewer_id or relation.friends


def belongs_in_timeline(viewer_id: str, author_id: str, relation: Relation) -> bool:
    return author_id == viewer_id or (relation.friends and not relation.muted)


def may_list_friends(viewer_id: str, user_id: str, relation: Relation) -> bool:
    """A friend list is the user's own and their friends' to read (the count is public)."""
    return user_id == viewer_id or relation.friends


def own_only(viewer_id: str, user_id: str) -> bool:
    """Requests, blocks, mutes and suggestions are the viewer's own business."""
    return user_id == viewer_id


async def visible(
    viewer_id: str,
    posts: Sequence[PostDocument | None],
    lookup: ReadLookup,
    *,
    timeline: bool,
) -> list[PostView | None]:
    """The posts as a reader sees them, in order, with None for any the viewer may
    not see here.

    One batched look-up of the viewer's ties to every author, whatever the count.
    """
    authors = sorted({post.author_id for post in posts if post is not None} - {viewer_id})
    ties = await lookup.relations(viewer_id, authors) if authors else []
    relations = dict(zip(authors, ties, strict=True))
    rule = belongs_in_timeline if timeline else may_read

    def shown(post: PostDocument | None) -> bool:
        if post is None:
            return False
        return rule(viewer_id, post.author_id, relations.get(post.author_id, Relation()))

    return [PostView.of(post) if post is not None and shown(post) else None for post in posts]


async def readable_posts(
    viewer_id: str, ids: Sequence[int], lookup: ReadLookup
) -> list[PostView | None]:
    """Posts by id, in order; None where missing or not the viewer's to read.

    Ids are guessable (time, node, sequence), so a hidden post and a missing id
    must cost the same: both are asked of MongoDB (not the process's cache, which
    holds only posts that exist), and the viewer's ties are read either way."""
    posts = await lookup.stored_posts(ids)
    authors = {post.author_id for post in posts if post is not None} - {viewer_id}
    if not authors:
        # Nothing to check, and the same round trip as a check: about the viewer.
        await lookup.relations(viewer_id, [viewer_id])
    return await visible(viewer_id, posts, lookup, timeline=False)


# What a missing post answers, and so what a hidden one does too.
NO_SUCH_POST = "There is no post with this id."


async def readable_post(viewer_id: str, post_id: int, lookup: ReadLookup) -> PostView:
    """The post, if the viewer may read it; NOT_FOUND, as for a missing one, if not."""
    [found] = await readable_posts(viewer_id, [post_id], lookup)
    if found is None:
        raise NotFound(NO_SUCH_POST)
    return found
