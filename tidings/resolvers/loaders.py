"""Per-request DataLoaders: every lookup a request makes is batched through one of these."""

from collections.abc import Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from tidings.stores.graph import FriendGraph, UserSummary
from tidings.stores.posts import PostDocument, PostStore


@dataclass(frozen=True)
class Loaders:
    posts: DataLoader[int, PostDocument | None]
    users: DataLoader[str, UserSummary | None]


def build_loaders(posts: PostStore, graph: FriendGraph) -> Loaders:
    async def load_posts(ids: Sequence[int]) -> list[PostDocument | None]:
        found = await posts.get_many(ids)
        return [found.get(post_id) for post_id in ids]

    async def load_users(ids: Sequence[str]) -> list[UserSummary | None]:
        return await graph.user_summaries(ids)

    return Loaders(posts=DataLoader(load_fn=load_posts), users=DataLoader(load_fn=load_users))
