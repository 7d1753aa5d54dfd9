"""What a like or a comment sets off beyond its own store, the same for both:
whether the post is hot right now (its counts then spread over shards), what the
viewer gave the post's author (for the ranked feed's score), and the author's
notification about the post (written later by the notifier)."""

from tidings.feed.affinity import Affinity
from tidings.feed.changed_groups import ChangedGroups
from tidings.feed.heat import PostHeat


class Interactions:
    def __init__(self, heat: PostHeat, affinity: Affinity, changed: ChangedGroups) -> None:
        self._heat = heat
        self._affinity = affinity
        self._changed = changed

    async def is_hot(self, post_id: int) -> bool:
        """Counts this change to the post; whether its counts should spread."""
        return await self._heat.changed(post_id)

    async def happened(self, viewer_id: str, author_id: str, group: str, weight: int) -> None:
        """The viewer did (or, with a negative weight, undid) something to the
        author's post. Nobody is told of, or credited for, their own."""
        if viewer_id == author_id:
            return
        await self._affinity.gave(viewer_id, author_id, weight)
        await self._changed.mark(group)

    async def regroup(self, group: str) -> None:
        """The group changed without anyone acting on it (a comment deleted by the
        post's author): written again."""
        await self._changed.mark(group)
