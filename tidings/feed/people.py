"""The friend graph as a viewer may read it: friend lists, the viewer's own
requests, blocks and mutes, people they may know, and friend counts.

Who may read which list is decided in `visibility.py`; this module asks the
graph only once that rule allows it.
"""

from collections.abc import Sequence

from tidings.feed.expiring_cache import ExpiringCache
from tidings.feed.lookup import ReadLookup
from tidings.feed.paging import check_page_size, overfetched
from tidings.feed.visibility import may_list_friends, own_only
from tidings.stores.graph import (
    FriendGraph,
    RelationList,
    RelationPosition,
    Suggestion,
    UserSummary,
)

# The walk behind suggestions: the viewer's first 200 friends, and 200 friends of
# each, so one request reads at most 40,000 ties whoever is in it.
SUGGESTION_FRIENDS_WALKED = 200
SUGGESTION_SAMPLE_PER_FRIEND = 200


class People:
    def __init__(
        self, graph: FriendGraph, summaries: ExpiringCache[str, UserSummary] | None = None
    ) -> None:
        self._graph = graph
        # Users' friend counts, kept briefly: a page shows its authors' counts, which
        # change far more rarely than pages are read. A change of ties made in this
        # process evicts them at once (`forget`); another process's shows within the TTL.
        self._summaries = summaries

    async def summaries(self, user_ids: Sequence[str]) -> list[UserSummary | None]:
        """Each user's friend count, in order; None for an id the graph never saw."""
        known = self._summaries.get_many(user_ids) if self._summaries is not None else {}
        if missing := [user_id for user_id in user_ids if user_id not in known]:
            fetched = await self._graph.user_summaries(missing)
            found = [(s.id, s) for s in fetched if s is not None]
            if self._summaries is not None:
                self._summaries.put_items(found)
            known = {**known, **dict(found)}
        return [known.get(user_id) for user_id in user_ids]

    def forget(self, user_ids: Sequence[str]) -> None:
        """Their ties changed: counts kept for them are stale."""
        if self._summaries is not None:
            for user_id in user_ids:
                self._summaries.evict(user_id)

    async def friends(
        self, viewer_id: str, user_id: str, after: str | None, first: int, lookup: ReadLookup
    ) -> tuple[list[str], bool] | None:
        """A page of the user's friends by id, and whether more follow; None unless
        the viewer may read the list."""
        if user_id != viewer_id:
            [relation] = await lookup.relations(viewer_id, [user_id])
            if not may_list_friends(viewer_id, user_id, relation):
                return None
        found = await self._graph.friends_page(user_id, after, check_page_size(first) + 1)
        return overfetched(found, first)

    async def own_ties(
        self,
        viewer_id: str,
        user_id: str,
        kind: RelationList,
        after: RelationPosition | None,
        first: int,
    ) -> tuple[list[RelationPosition], bool] | None:
        """A page of the viewer's own requests, blocks or mutes, newest first; None
        on anyone else."""
        if not own_only(viewer_id, user_id):
            return None
        found = await self._graph.relations_page(viewer_id, kind, after, check_page_size(first) + 1)
        return overfetched(found, first)

    async def suggestions(self, viewer_id: str, user_id: str, first: int) -> list[Suggestion]:
        """People the viewer may know; empty for anyone else (they are the viewer's own)."""
        if not own_only(viewer_id, user_id):
            return []
        return await self._graph.suggestions(
            viewer_id,
            check_page_size(first),
            friends_walked=SUGGESTION_FRIENDS_WALKED,
            per_friend=SUGGESTION_SAMPLE_PER_FRIEND,
        )
