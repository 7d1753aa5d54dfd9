"""Liking a post: only someone who may read it can like it, unlike it or see who
did; anyone else gets exactly what a missing post gets."""

import time
from collections.abc import Sequence

from tidings.feed.affinity import LIKE, Affinity
from tidings.feed.changed_groups import ChangedGroups, likes_of
from tidings.feed.heat import PostHeat
from tidings.feed.lookup import ReadLookup
from tidings.feed.paging import check_page_size, overfetched
from tidings.feed.rate_limit import RateLimiter
from tidings.feed.read_model import PostView
from tidings.feed.visibility import readable_post
from tidings.stores.likes import LikerPosition, LikeStore


class Likes:
    def __init__(
        self,
        store: LikeStore,
        limiter: RateLimiter,
        changed: ChangedGroups,
        heat: PostHeat,
        affinity: Affinity,
    ) -> None:
        # What the viewer gives an author, for the ranked feed's score.
        self._affinity = affinity
        self._store = store
        self._limiter = limiter
        self._heat = heat
        # The author's notification about the post's likes, written by the notifier.
        self._changed = changed

    async def like(self, viewer_id: str, post_id: int, lookup: ReadLookup) -> PostView:
        """Idempotent: liking twice is one like."""
        post = await readable_post(viewer_id, post_id, lookup)
        await self._limiter.take(viewer_id)
        spread = await self._heat.changed(post_id)
        if await self._store.like(post_id, viewer_id, int(time.time() * 1000), spread=spread):
            await self._affinity.gave(viewer_id, post.author_id, LIKE)
            await self._notify(post, viewer_id)
        return post

    async def unlike(self, viewer_id: str, post_id: int, lookup: ReadLookup) -> PostView:
        """Idempotent: unliking what was never liked changes nothing."""
        post = await readable_post(viewer_id, post_id, lookup)
        await self._limiter.take(viewer_id)
        spread = await self._heat.changed(post_id)
        if await self._store.unlike(post_id, viewer_id, spread=spread):
            await self._affinity.gave(viewer_id, post.author_id, -LIKE)
            await self._notify(post, viewer_id)
        return post

    async def _notify(self, post: PostView, viewer_id: str) -> None:
        if viewer_id != post.author_id:  # nobody is told of their own like
            await self._changed.mark(likes_of(post.id))

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
