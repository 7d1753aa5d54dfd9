"""Copying an author's recent posts into readers' stored timelines: when two people
become friends (each into the other's), and when a celebrity is pushed again."""

from collections.abc import Sequence

from tidings.feed.timeline import TimelineStore
from tidings.stores.posts import PostStore


class Backfill:
    def __init__(
        self, posts: PostStore, timelines: TimelineStore, *, posts_per_author: int
    ) -> None:
        self._posts = posts
        self._timelines = timelines
        self._posts_per_author = posts_per_author

    async def recent(self, author_id: str) -> list[int]:
        """The ids of the author's posts a backfill copies, newest first."""
        return await self._posts.ids_by_author(author_id, 0, self._posts_per_author)

    async def copy(self, post_ids: Sequence[int], readers: Sequence[str]) -> int:
        """Adds the posts to each reader's built timeline; returns how many were built.
        Safe to repeat: a member added twice is one entry."""
        return await self._timelines.add_to_many(readers, post_ids, history=True)

    async def author_into(self, author_id: str, readers: Sequence[str]) -> int:
        return await self.copy(await self.recent(author_id), readers)
