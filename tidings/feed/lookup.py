"""How the read side finds posts: one port, so a request can batch every lookup.

In a request the port is the request's DataLoaders (`resolvers/loaders.py`), so
all lookups of one request share queries; elsewhere (tools, the live hub) it is
the store itself, through `StoreLookup`.
"""

from collections.abc import Sequence
from typing import Protocol

from tidings.stores.posts import PostDocument, PostStore


class PostLookup(Protocol):
    async def posts(self, ids: Sequence[int]) -> list[PostDocument | None]:
        """The posts with these ids, in order; None where missing."""
        ...

    async def recent(
        self, authors: Sequence[str], before: int | None, limit: int, *, since_id: int = 0
    ) -> list[PostDocument]:
        """The newest `limit` posts by these authors with `since_id <= id < before`."""
        ...


class StoreLookup:
    """The port straight on the store: one query per call, nothing batched or cached."""

    def __init__(self, store: PostStore) -> None:
        self._store = store

    async def posts(self, ids: Sequence[int]) -> list[PostDocument | None]:
        found = await self._store.get_many(ids)
        return [found.get(post_id) for post_id in ids]

    async def recent(
        self, authors: Sequence[str], before: int | None, limit: int, *, since_id: int = 0
    ) -> list[PostDocument]:
        return await self._store.recent_by_authors(authors, before, limit, since_id=since_id)
