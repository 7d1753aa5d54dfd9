"""Per-request DataLoaders: every lookup a request makes is batched through one of these."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from tidings.feed.expiring_cache import ExpiringCache
from tidings.feed.post_cache import PostCache
from tidings.feed.ties import TieCache
from tidings.stores.graph import FriendGraph, Relation, UserSummary
from tidings.stores.posts import PostDocument, PostStore


@dataclass(frozen=True, slots=True)
class RecentKey:
    """The newest `limit` posts by `authors` (sorted, deduplicated), ids in [since, before)."""

    authors: tuple[str, ...]
    before: int | None
    limit: int
    since: int = 0


@dataclass(frozen=True)
class Loaders:
    """The request's loaders; also the read side's `ReadLookup` for this request."""

    by_id: DataLoader[int, PostDocument | None]
    users: DataLoader[str, UserSummary | None]
    by_authors: DataLoader[RecentKey, list[PostDocument]]
    # Keyed (viewer, other user). Friends and mutes only, from the tie cache: what
    # every read checks.
    ties: DataLoader[tuple[str, str], Relation]
    # The same keys, the whole relation from the graph (requests, blocks): for
    # the `friendship` field.
    standing: DataLoader[tuple[str, str], Relation]
    # The process's post cache, behind `by_id`.
    cache: PostCache

    async def posts(self, ids: Sequence[int]) -> list[PostDocument | None]:
        # Posts the process holds skip the loader's futures: a warm page is a dict
        # lookup per post; only the rest are batched into one MongoDB query.
        found: dict[int, PostDocument | None] = dict(self.cache.get_many(ids, count_misses=False))
        if missing := [post_id for post_id in ids if post_id not in found]:
            found.update(zip(missing, await self.by_id.load_many(missing), strict=True))
        return [found[post_id] for post_id in ids]

    async def recent(
        self, authors: Sequence[str], before: int | None, limit: int, *, since_id: int = 0
    ) -> list[PostDocument]:
        key = RecentKey(tuple(sorted(set(authors))), before, limit, since_id)
        found = await self.by_authors.load(key)
        for post in found:
            # Hydrating the page later costs no second query for these.
            self.by_id.prime(post.id, post)
        self.cache.put_many(found)
        return found

    def cached_posts(self, ids: Sequence[int]) -> dict[int, PostDocument]:
        return self.cache.get_many(ids)

    async def relations(self, viewer_id: str, user_ids: Sequence[str]) -> list[Relation]:
        return await self.ties.load_many([(viewer_id, user_id) for user_id in user_ids])

    def forget_ties(self) -> None:
        """After a change of friendship, block or mute: what was read is stale."""
        self.ties.clear_all()
        self.standing.clear_all()
        self.users.clear_all()


def build_loaders(
    posts: PostStore,
    graph: FriendGraph,
    tie_cache: TieCache,
    post_cache: PostCache,
    *,
    cache: bool = True,
    summaries: ExpiringCache[str, UserSummary] | None = None,
) -> Loaders:
    async def load_posts(ids: Sequence[int]) -> list[PostDocument | None]:
        found = post_cache.get_many(ids)
        if missing := [post_id for post_id in ids if post_id not in found]:
            fetched = await posts.get_many(missing)
            post_cache.put_many(fetched.values())
            found.update(fetched)
        return [found.get(post_id) for post_id in ids]

    async def load_users(ids: Sequence[str]) -> list[UserSummary | None]:
        known = summaries.get_many(ids) if summaries is not None else {}
        if missing := [user_id for user_id in ids if user_id not in known]:
            fetched = await graph.user_summaries(missing)
            found = [(s.id, s) for s in fetched if s is not None]
            if summaries is not None:
                summaries.put_items(found)
            known = {**known, **dict(found)}
        return [known.get(user_id) for user_id in ids]

    async def load_recent(keys: Sequence[RecentKey]) -> list[list[PostDocument]]:
        # One query per distinct key; a timeline page asks for one or two keys.
        return list(
            await asyncio.gather(
                *(
                    posts.recent_by_authors(key.authors, key.before, key.limit, since_id=key.since)
                    for key in keys
                )
            )
        )

    def by_viewer(
        load: Callable[[str, Sequence[str]], Awaitable[list[Relation]]],
    ) -> Callable[[Sequence[tuple[str, str]]], Awaitable[list[Relation]]]:
        async def load_pairs(keys: Sequence[tuple[str, str]]) -> list[Relation]:
            # A request has one viewer; group anyway, so nothing depends on it.
            grouped: dict[str, list[str]] = {}
            for viewer_id, user_id in keys:
                grouped.setdefault(viewer_id, []).append(user_id)
            found: dict[tuple[str, str], Relation] = {}
            for viewer_id, user_ids in grouped.items():
                for user_id, relation in zip(
                    user_ids, await load(viewer_id, user_ids), strict=True
                ):
                    found[viewer_id, user_id] = relation
            return [found[key] for key in keys]

        return load_pairs

    return Loaders(
        by_id=DataLoader(load_fn=load_posts, cache=cache),
        users=DataLoader(load_fn=load_users, cache=cache),
        by_authors=DataLoader(load_fn=load_recent, cache=cache),
        ties=DataLoader(load_fn=by_viewer(tie_cache.ties), cache=cache),
        standing=DataLoader(load_fn=by_viewer(graph.relations), cache=cache),
        cache=post_cache,
    )
