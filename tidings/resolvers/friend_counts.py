"""Friend counts: public, like a follower count; a page's authors' in one step."""

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from tidings.feed.read_model import PostView
from tidings.resolvers.context import Context
from tidings.resolvers.page_builder import BatchStep
from tidings.stores.graph import UserSummary


def summaries_loader(ctx: Context) -> DataLoader[str, UserSummary | None]:
    return DataLoader(load_fn=ctx.backends.people.summaries, cache=ctx.cache_loaded)


async def friend_count(ctx: Context, user_id: str) -> int:
    ctx.require_viewer()
    summary = await ctx.loader(summaries_loader).load(user_id)
    return 0 if summary is None else summary.friend_count


async def _authors_counts(ctx: Context, posts: Sequence[PostView]) -> dict[str, int]:
    authors = list(dict.fromkeys(post.author_id for post in posts))
    summaries = await ctx.loader(summaries_loader).load_many(authors)
    return {
        author: 0 if summary is None else summary.friend_count
        for author, summary in zip(authors, summaries, strict=True)
    }


# Keyed by author id: `User.friendCount` of a page's author reads it.
AUTHOR_FRIEND_COUNTS = BatchStep(
    "author friend counts", frozenset({"author.friendCount"}), _authors_counts
)
