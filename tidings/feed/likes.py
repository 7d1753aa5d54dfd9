"""Liking a post: only someone who may read it can like it, unlike it or see who
did; anyone else gets exactly what a missing post gets."""

import time
from collections.abc import Sequence

from tidings.feed.affinity import LIKE
from tidings.feed.changed_groups import likes_of
from tidings.feed.interactions import Interactions
from tidings.feed.lookup import ReadLookup
from tidings.feed.paging import check_page_size, overfetched
from tidings.feed.rate_limit import RateLimiter
from tidings.feed.read_model import PostView
from tidings.feed.visibility import readable_post
from tidings.stores.likes import LikerPosition, LikeStore


class Likes:
    def __init__(self, store: LikeStore, limiter: RateLimiter, interactions: Interactions) -> None:
        self._store = store
        self._limiter = limiter
        self._interactions = interactions

    async def like(self, viewer_id: str, post_id: int, lookup: ReadLookup) -> PostView:
        """Idempotent: liking twice is one like."""
        post = await readable_post(viewer_id, post_id, lookup)
        await self._limiter.take(viewer_id)
        spread = await self._interactions.is_hot(post_id)
        if await self._store.like(post_id, viewer_id, int(time.time() * 1000), spread=spread):
            await self._interactions.happened(viewer_id, post.author_id, likes_of(post_id), LIKE)
        return post

    async def unlike(self, viewer_id: str, post_id: int, lookup: ReadLookup) -> PostView:
        """Idempotent: unliking what was never liked changes nothing."""
        post = await readable_post(viewer_id, post_id, lookup)
        await self._limiter.take(viewer_id)
        spread = await self._interactions.is_hot(post_id)
        if await self._store.unlike(post_id, viewer_id, spread=spread):
            await self._interactions.happened(viewer_id, post.author_id, likes_of(post_id), -LIKE)
        return post

    async def likers(
        self,
        viewer_id: str,
        post_id: int,
        after: LikerPosition | None,
        first: int,
        lookup: ReadLookup,
    ) -> tuple[list[LikerPosition], bool]:
        await readable_post(viewer_id, post_id, lookup)
        found = await self._store.likers(post_id, after, check_page_size(first) + 1)
        return overfetched(found, first)

    async def liked_by(self, viewer_id: str, post_ids: Sequence[int]) -> set[int]:
        """For posts the caller has checked the viewer may read (a page's)."""
        return await self._store.liked_by(viewer_id, post_ids)

    async def forget_post(self, post_id: int) -> None:
        await self._store.forget_post(post_id)
