"""How the read side finds posts and the viewer's ties: one port, so a request can
batch every lookup.

In a request the port is the request's DataLoaders (`resolvers/loaders.py`), so
all lookups of one request share queries; elsewhere (tools, tests) it is the
stores themselves, through `StoreLookup`.
"""

from collections.abc import Sequence
from typing import Protocol

from tidings.stores.graph import FriendGraph, Relation
from tidings.stores.posts import PostDocument, PostStore


class ReadLookup(Protocol):
    async def posts(self, ids: Sequence[int]) -> list[PostDocument | None]:
        """The posts with these ids, in order; None where missing."""
        ...

    async def stored_posts(self, ids: Sequence[int]) -> list[PostDocument | None]:
        """The posts with these ids, asked of the store whatever the process holds:
        a read by id then costs the same whether the post exists or not."""
        ...

    async def recent(
        self, authors: Sequence[str], before: int | None, limit: int, *, since_id: int = 0
    ) -> list[PostDocument]:
        """The newest `limit` posts by these authors with `since_id <= id < before`."""
        ...

    async def relations(self, viewer_id: str, user_ids: Sequence[str]) -> list[Relation]:
        """How the viewer stands with each of these users, in order."""
        ...

    def cached_posts(self, ids: Sequence[int]) -> dict[int, PostDocument]:
        """Those of these posts this process holds, asking no store."""
        ...


class StoreLookup:
    """The port straight on the stores: one query per call, nothing batched or cached."""

    def __init__(self, posts: PostStore, graph: FriendGraph) -> None:
        self._posts = posts
        self._graph = graph

    async def posts(self, ids: Sequence[int]) -> list[PostDocument | None]:
        found = await self._posts.get_many(ids)
        return [found.get(post_id) for post_id in ids]

    async def stored_posts(self, ids: Sequence[int]) -> list[PostDocument | None]:
        return await self.posts(ids)

    async def recent(
        self, authors: Sequence[str], before: int | None, limit: int, *, since_id: int = 0
    ) -> list[PostDocument]:
        return await self._posts.recent_by_authors(authors, before, limit, since_id=since_id)

    async def relations(self, viewer_id: str, user_ids: Sequence[str]) -> list[Relation]:
        return await self._graph.relations(viewer_id, user_ids)

    def cached_posts(self, ids: Sequence[int]) -> dict[int, PostDocument]:
        return {}
